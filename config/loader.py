"""Loading settings: defaults, then `linkfresh.toml` (or `--config`), then `LINKFRESH_*`.

Every failure is a `ConfigError` naming the file (or variable), the key and the reason.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from linkfresh.config.settings import Settings

CONFIG_FILENAME = "linkfresh.toml"
ENV_PREFIX = "LINKFRESH_"
ENV_CONFIG = "LINKFRESH_CONFIG"  # a path, not a key
_NESTING = "__"


class ConfigError(Exception):
    """The configuration cannot be used; `str()` says where and why."""


def find_config(explicit: Path | None, cwd: Path | None = None) -> Path | None:
    """The config file to read: `--config`, else `$LINKFRESH_CONFIG`, else ./linkfresh.toml."""
    if explicit is not None:
        return explicit
    if os.environ.get(ENV_CONFIG):
        return Path(os.environ[ENV_CONFIG])
    candidate = (cwd or Path.cwd()) / CONFIG_FILENAME
    return candidate if candidate.is_file() else None


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning every failure into a `ConfigError`."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """`LINKFRESH_CHECK__CONCURRENCY=8` -> {"check": {"concurrency": 8}}.

    Values are read as TOML values when they parse as one (numbers, booleans, arrays),
    otherwise as plain strings.
    """
    result: dict[str, Any] = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or name == ENV_CONFIG:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split(_NESTING)]
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        node = result
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"${name}: conflicts with another LINKFRESH_ variable")
        node[path[-1]] = value
    return result


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(error: ValidationError, origin: str, from_env: dict[str, Any]) -> str:
    problems = []
    for item in error.errors():
        loc = item["loc"]
        key = ".".join(str(part) for part in loc)
        if _in(from_env, loc):
            variable = ENV_PREFIX + _NESTING.join(str(part).upper() for part in loc)
            where = f"environment ${variable}"
        else:
            where = origin
        reason = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
        problems.append(f"{where}: {key}: {reason}")
    return "\n".join(problems)


def _in(tree: Any, loc: tuple[Any, ...]) -> bool:
    for part in loc:
        if isinstance(tree, dict) and part in tree:
            tree = tree[part]
        else:
            return False
    return True


def load_settings(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> tuple[Settings, Path | None]:
    """Build the settings and say which file they came from (None: defaults only).

    Relative paths in the file (guides, database, reports) are kept as written and are
    resolved by the caller against the config file's folder.
    """
    environ = os.environ if environ is None else environ
    config_path = find_config(path, cwd)
    data = read_toml(config_path) if config_path else {}
    from_env = env_overrides(environ)
    try:
        settings = Settings.model_validate(_merge(data, from_env))
    except ValidationError as error:
        raise ConfigError(_describe(error, str(config_path or "defaults"), from_env)) from None
    return settings, config_path
