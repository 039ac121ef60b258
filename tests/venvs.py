"""A fresh virtual environment for install tests, offline: linkfresh's dependencies come
from the test environment (linked in through a .pth file), linkfresh itself does not.

pip run in it installs into it; with `PIP_NO_INDEX=1` nothing is downloaded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

# Entries of the test environment's site-packages that are linkfresh itself (editable).
_OURS = ("linkfresh", "__editable__", "_linkfresh")


def fresh_venv(folder: Path) -> Path:
    """Create a venv at `folder` that sees the test environment's packages except linkfresh;
    returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True,
                   capture_output=True, timeout=120)
    python = folder / "bin" / "python"
    deps = folder / "test-deps"
    deps.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in site.iterdir():
        if entry.name.startswith(_OURS) or entry.suffix == ".pth":
            continue
        (deps / entry.name).symlink_to(entry)
    own_site = subprocess.run([str(python), "-c", "import sysconfig; "
                               "print(sysconfig.get_paths()['purelib'])"],
                              check=True, capture_output=True, text=True).stdout.strip()
    Path(own_site, "test-deps.pth").write_text(f"{deps}\n")
    return python


def offline_pip_env(**extra: str) -> dict[str, str]:
    """The environment for pip in a fresh venv: no index, no build isolation, no proxies."""
    env = {key: value for key, value in os.environ.items()
           if not key.lower().endswith("_proxy") and not key.startswith("PIP_")}
    # pip reads PIP_NO_BUILD_ISOLATION as the value of `build_isolation`: 0 turns it off.
    env.update({"PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1"}, **extra)
    return env
