"""Collecting news: arXiv papers and blog posts per topic, and what each source did."""
