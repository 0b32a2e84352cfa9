"""`file-records emulate`: --help works, --demo/--port parse, and serve announces URL and token."""

from __future__ import annotations

import os
import threading

import pytest
import requests

from file_records import cli
from file_records.emulators import dxr_server


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith(("DXR_", "DATABRICKS_", "FILE_RECORDS_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_help(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["emulate", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--demo" in out and "--port" in out and "--token" in out


def parse(argv):
    import argparse

    parser = argparse.ArgumentParser()
    dxr_server.add_arguments(parser)
    return parser.parse_args(argv)


def test_demo_and_port_are_accepted():
    args = parse(["--demo", "--port", "0"])
    assert args.demo is True and args.port == 0


def serve_once(monkeypatch, args, accepted: bool = False) -> list[str]:
    """Run serve() until it would block, check the announced token is the accepted one, stop."""
    lines: list[str] = []
    checked: dict = {}

    def serve_forever(self):  # called after the announcement: the announced token must be accepted
        token = next((line.split(": ", 1)[1].split()[0] for line in lines if line.startswith("Bearer token: ")), "")
        for key, value in (("announced", token), ("wrong", "wrong-token")):
            response = requests.get(self.url + dxr_server.FILES_PATH, params={"q": 'fileName:"*.pdf"'},
                                    timeout=10, headers={"Authorization": f"Bearer {value}"})
            checked[key] = response.status_code
        self.stop()

    monkeypatch.setattr(dxr_server.DxrEmulator, "serve_forever", serve_forever)
    thread = threading.Thread(target=dxr_server.serve, args=(args, lines.append))
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    assert checked.get("wrong") == 401
    if accepted:
        assert checked.get("announced") == 200
    return lines


def test_serve_announces_url_and_token(monkeypatch):
    lines = serve_once(monkeypatch, parse(["--records", "20", "--port", "0", "--token", "tok-123"]), accepted=True)
    text = "\n".join(lines)
    assert "Listening on http://127.0.0.1:" in text
    assert "Bearer token: tok-123" in text
    assert "DXR_BEARER_TOKEN=tok-123" in text and "DXR_BASE_URL=http://127.0.0.1:" in text


def test_serve_default_token(monkeypatch):
    text = "\n".join(serve_once(monkeypatch, parse(["--records", "5", "--port", "0"]), accepted=True))
    assert "Bearer token: dev-token" in text


def test_a_token_from_the_environment_is_not_printed(monkeypatch):
    monkeypatch.setenv("DXR_BEARER_TOKEN", "real-secret-token-9")
    text = "\n".join(serve_once(monkeypatch, parse(["--records", "5", "--port", "0"])))
    assert "real-secret-token-9" not in text and "$DXR_BEARER_TOKEN (not printed)" in text
