"""linkfresh: keep a curated markdown learning guide alive."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/linkfresh/linkfresh"
