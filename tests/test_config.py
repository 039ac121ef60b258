"""Settings: defaults, the TOML file, environment overrides, and errors that name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkfresh.config.bundled import bundled_feeds, bundled_topics
from linkfresh.config.loader import ConfigError, env_overrides, load_settings
from linkfresh.config.settings import Settings
from tests.cli import run_cli


def test_defaults_need_no_file(tmp_path: Path) -> None:
    settings, path = load_settings(environ={}, cwd=tmp_path)
    assert path is None
    assert settings == Settings()
    assert settings.check.concurrency == 64 and settings.check.per_host == 4
    assert settings.check.max_body_bytes == 2 * 1024 * 1024
    assert settings.schedule.digest == "0 8 * * mon"


def test_file_in_working_directory_is_found(tmp_path: Path) -> None:
    (tmp_path / "linkfresh.toml").write_text('guides = ["g.md"]\n[check]\nper_host = 2\n')
    settings, path = load_settings(environ={}, cwd=tmp_path)
    assert path == tmp_path / "linkfresh.toml"
    assert settings.guides == ["g.md"] and settings.check.per_host == 2


def test_environment_overrides_file(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[check]\nconcurrency = 10\n")
    environ = {
        "LINKFRESH_CHECK__CONCURRENCY": "12",
        "LINKFRESH_DATABASE": "sqlite:///x.db",
        "LINKFRESH_CHECK__EXCLUDE": '["^https://a"]',
        "OTHER": "1",
    }
    settings, _ = load_settings(config, environ=environ)
    assert settings.check.concurrency == 12
    assert settings.database == "sqlite:///x.db"
    assert settings.check.exclude == ["^https://a"]


def test_env_overrides_parse_toml_values() -> None:
    assert env_overrides(
        {"LINKFRESH_CHECK__ALLOW_PRIVATE": "true", "LINKFRESH_X": "plain text"}
    ) == {"check": {"allow_private": True}, "x": "plain text"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[check]\nconcurency = 3\n", "check.concurency: unknown key"),
        (
            "[check]\nconcurrency = 0\n",
            "check.concurrency: Input should be greater than or equal to 1",
        ),
        (
            "[check]\nexclude = ['(']\n",
            "check.exclude: Value error, '(' is not a valid regular expression",
        ),
        (
            "[schedule]\ntimezone = 'Mars/Base'\n",
            "schedule.timezone: Value error, unknown time zone",
        ),
        ("[schedule]\ndigest = '0 8 * *'\n", "schedule.digest: Value error"),
        (
            "[[feeds]]\nname = 'x'\nurl = 'file:///etc/passwd'\n",
            "feeds.0.url: Value error, must be an http",
        ),
        ("[check\n", "not valid TOML"),
        (
            "[[topics]]\nname = 'x'\nthreshold = -1\n",
            "topics.0.threshold: Input should be greater than or equal to 0",
        ),
        ("[[topics]]\nname = 'x'\nexclude = 'speech'\n", "topics.0.exclude: Input should be"),
    ],
)
def test_bad_config_names_file_key_and_reason(tmp_path: Path, content: str, expected: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(content)
    with pytest.raises(ConfigError) as error:
        load_settings(config, environ={})
    assert str(config) in str(error.value)
    assert expected in str(error.value)


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(
        ConfigError, match=r"environment \$LINKFRESH_CHECK__PER_HOST: check.per_host"
    ):
        load_settings(environ={"LINKFRESH_CHECK__PER_HOST": "many"}, cwd=Path("/nonexistent"))


def test_bad_config_exits_2_from_the_command_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("colour = 'blue'\n")
    result = run_cli(capsys, "--config", str(config), "links")
    assert result.code == 2
    assert f"{config}: colour: unknown key" in result.err
    missing = run_cli(capsys, "--config", str(tmp_path / "none.toml"), "links")
    assert missing.code == 2 and "no such config file" in missing.err


def test_relative_guides_resolve_against_the_config_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "g.md").write_text("[x](https://x.example/)\n")
    (tmp_path / "sub" / "linkfresh.toml").write_text('guides = ["g.md"]\n')
    result = run_cli(capsys, "--config", str(tmp_path / "sub" / "linkfresh.toml"), "links")
    assert result.code == 0 and "https://x.example/" in result.out


def test_bundled_topics_and_feeds_are_valid() -> None:
    topics = bundled_topics()
    names = {topic.name for topic in topics}
    assert {"Transformer architecture", "RLHF and alignment", "Efficient inference"} <= names
    assert all(topic.arxiv_query and topic.keywords for topic in topics)
    # arXiv reads a quoted phrase as its words in any order: the bundled queries say so
    assert all('"' not in topic.arxiv_query.replace('abs:"language model"', "")
               for topic in topics)
    feeds = {feed.name for feed in bundled_feeds()}
    assert {
        "OpenAI Blog",
        "Hugging Face Blog",
        "The Batch",
        "Jay Alammar",
        "Sebastian Ruder",
    } <= feeds
