"""scripts/dev.py reads its command line as the README tells people to write it."""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path
from types import ModuleType

import pytest

from webapp.core.config import DEVELOPMENT_PUBLIC_URL
from webapp.core.config import ROOT


@pytest.fixture
def dev(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The script as a module (it is not in a package), with no PORT or PUBLIC_URL from the
    shell that runs the tests."""
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "scripts" / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "argv, pytest_args",
    [
        (["test"], []),
        (["test", "-k", "login", "-x"], ["-k", "login", "-x"]),  # the README's example
        (["test", "-k", "screenshot"], ["-k", "screenshot"]),  # the README's picture
        (
            ["test", "tests/e2e", "-x", "-k", "card and not touch"],
            ["tests/e2e", "-x", "-k", "card and not touch"],
        ),
    ],
)
def test_test_passes_its_arguments_to_pytest_in_order(
    dev: ModuleType, argv: list[str], pytest_args: list[str]
) -> None:
    args = dev.parse_args(argv)
    assert args.func is dev.test
    assert args.pytest_args == pytest_args


def test_other_commands_still_refuse_unknown_arguments(
    dev: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        dev.parse_args(["serve", "-x"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: -x" in capsys.readouterr().err


def test_bench_arguments_still_go_to_the_benchmark(dev: ModuleType) -> None:
    args = dev.parse_args(["bench", "concurrency", "--seconds", "120", "--kill-worker"])
    assert (args.name, args.bench_args) == ("concurrency", ["--seconds", "120", "--kill-worker"])


def test_bench_options_without_a_name_go_to_bench_perf(dev: ModuleType) -> None:
    args = dev.parse_args(["bench", "--scale", "10m"])
    assert (args.name, args.bench_args) == ("perf", ["--scale", "10m"])
    args = dev.parse_args(["bench", "explain", "--scale", "100k"])
    assert (args.name, args.bench_args) == ("explain", ["--scale", "100k"])


def test_serve_port_comes_from_the_flag_then_port_then_5000(
    dev: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert dev.parse_args(["serve"]).port == 5000
    assert dev.parse_args(["serve", "--port", "5001"]).port == 5001
    monkeypatch.setenv("PORT", "5002")
    assert dev.parse_args(["serve"]).port == 5002
    assert dev.parse_args(["serve", "--port", "5001"]).port == 5001  # the flag wins


def test_flask_run_is_given_the_port(dev: ModuleType) -> None:
    command = dev.flask_run_args(5001)
    assert command[command.index("--port") + 1] == "5001"


@pytest.mark.parametrize("value", ["abc", "0", "65536", "-1", ""])
def test_serve_refuses_a_port_that_is_not_one(
    dev: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    value: str,
) -> None:
    with pytest.raises(SystemExit):
        dev.parse_args(["serve", "--port", value])
    assert "not a port number" in capsys.readouterr().err
    if value:  # an empty PORT counts as unset
        monkeypatch.setenv("PORT", value)
        with pytest.raises(SystemExit):
            dev.parse_args(["serve"])


def test_a_port_in_use_is_not_free(dev: ModuleType) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert not dev.port_is_free(taken.getsockname()[1])


@pytest.mark.parametrize(
    "environment, env_file, default",
    [
        (None, None, True),
        (None, "PUBLIC_URL=http://127.0.0.1:5000\n", True),  # the .env that serve writes
        (None, "PUBLIC_URL=https://tunnel.example.com\n", False),
        ("http://127.0.0.1:5000", "PUBLIC_URL=https://tunnel.example.com\n", True),
        ("https://tunnel.example.com", None, False),
    ],
)
def test_serve_keeps_a_public_url_of_your_own(
    dev: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    environment: str | None,
    env_file: str | None,
    default: bool,
) -> None:
    """On another port, serve points e-mail links at itself, unless PUBLIC_URL is yours."""
    assert dev.DEFAULT_PUBLIC_URL == DEVELOPMENT_PUBLIC_URL
    monkeypatch.setattr(dev, "ROOT", tmp_path)
    if environment is not None:
        monkeypatch.setenv("PUBLIC_URL", environment)
    if env_file is not None:
        (tmp_path / ".env").write_text(env_file)
    assert dev.public_url_is_default() is default
