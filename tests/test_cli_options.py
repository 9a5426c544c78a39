"""Options before the command (``--verbose``) live on the invocation's context, not in
module state: one invocation's ``--verbose`` never leaks into the next or into other code."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from s3files._errors import InvalidInputError
from s3files.cli import app
from s3files.cli._common import friendly_errors


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("S3FILES_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("S3FILES_STORAGE_URL", "http://not-a-store")  # a ConfigurationError
    monkeypatch.chdir(tmp_path)
    return CliRunner()


COMMAND = ["bucket", "setup-cors", "--origin", "https://app.example.com"]


def test_verbose_shows_the_traceback_for_its_own_invocation_only(runner: CliRunner) -> None:
    verbose = runner.invoke(app, ["--verbose", *COMMAND])
    assert verbose.exit_code == 1
    assert "Traceback" in verbose.stderr and "S3FILES_STORAGE_URL" in verbose.stderr
    quiet = runner.invoke(app, COMMAND)
    assert quiet.exit_code == 1
    assert "Traceback" not in quiet.stderr and "S3FILES_STORAGE_URL" in quiet.stderr
    assert len(quiet.stderr.strip().splitlines()) <= 2, quiet.stderr


def test_options_do_not_outlive_the_invocation(
    runner: CliRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    assert runner.invoke(app, ["-v", *COMMAND]).exit_code == 1
    with pytest.raises(typer.Exit), friendly_errors():
        raise InvalidInputError("bad input", reason="invalid_input")
    assert "Traceback" not in capsys.readouterr().err
