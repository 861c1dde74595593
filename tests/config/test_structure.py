"""Layout rules that are checked mechanically (STYLE.md 1 and 3)."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
NOT_OURS = {".venv", ".git", "node_modules", "var", "staticfiles"}


def _top_level_python_names() -> dict[str, Path]:
    names: dict[str, Path] = {}
    for entry in REPO_ROOT.iterdir():
        if entry.name.startswith(".") or entry.name in NOT_OURS:
            continue
        if entry.is_file() and entry.suffix == ".py":
            names[entry.stem] = entry
        elif entry.is_dir() and (entry / "__init__.py").is_file():
            names[entry.name] = entry
    return names


def _run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_scan_finds_our_own_packages():
    assert {"config", "courses", "learners", "adaptive", "manage"} <= set(_top_level_python_names())


def test_no_top_level_package_or_module_carries_a_standard_library_name():
    clashes = sorted(set(_top_level_python_names()) & sys.stdlib_module_names)

    assert clashes == []


def test_platform_folder_is_not_a_python_package():
    assert (REPO_ROOT / "platform").is_dir()
    assert not (REPO_ROOT / "platform" / "__init__.py").exists()


def test_standard_library_platform_works_from_the_repository_root():
    result = _run_python(
        "import json, platform; print(json.dumps([platform.system(), platform.__file__]))"
    )

    assert result.returncode == 0, result.stderr
    system, module_file = json.loads(result.stdout)
    assert system == __import__("platform").system()
    assert not Path(module_file).resolve().is_relative_to(REPO_ROOT)


def test_web_process_never_imports_tensorflow():
    result = _run_python(
        "import json, sys, django; django.setup(); import config.urls;"
        " from django.urls import get_resolver; get_resolver().url_patterns;"
        " print(json.dumps(sorted(m for m in sys.modules"
        " if m.split('.')[0] in {'tensorflow', 'keras', 'tf_keras'})))",
        DJANGO_SETTINGS_MODULE="config.settings.test",
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
