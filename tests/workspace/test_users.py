"""SCIM user listing (paging, max_users, deactivated users, retries) and users files."""

from __future__ import annotations

import pytest

from file_records.connectors.workspace import (
    ApiError,
    RateLimiter,
    ScanConfig,
    UserRef,
    WorkspaceAuth,
    WorkspaceHttp,
    list_users,
    load_users_file,
    write_users_csv,
)
from file_records.connectors.workspace.users import parse_users_text
from file_records.emulators.workspace_server import SCIM_USERS, WorkspaceEmulator
from file_records.emulators.workspace_tree import SyntheticWorkspace

TOKEN = "test-token"
FAST = ScanConfig(max_requests_per_second=None, backoff_base_seconds=0.01, backoff_cap_seconds=0.05)


@pytest.fixture(scope="module")
def emu():
    tree = SyntheticWorkspace.generate(250, dirs_per_user=0, objects_per_user=0, seed=2, deactivated_ratio=0.1)
    with WorkspaceEmulator(tree, token=TOKEN) as emulator:
        yield emulator


def http_for(emu, token=TOKEN):
    return WorkspaceHttp(WorkspaceAuth(host=emu.url, token=token), FAST, limiter=RateLimiter(None))


def test_all_users_over_several_pages(emu):
    emu.reset_counters()
    with http_for(emu) as http:
        users = list_users(None, http=http)
    assert [u.username for u in users] == [u.username for u in emu.tree.users]
    assert emu.requests_by_path[SCIM_USERS] == 3  # 100 + 100 + 50; totalResults says it is done
    inactive = [u for u in users if u.active is False]
    assert len(inactive) == 25
    assert {u.username for u in inactive} == {u.username for u in emu.tree.users if not u.active}
    assert all(u.display_name for u in users)


def test_max_users_stops_mid_page(emu):
    emu.reset_counters()
    with http_for(emu) as http:
        users = list_users(None, max_users=120, http=http)
    assert len(users) == 120 and users[-1].username == emu.tree.users[119].username
    assert emu.requests_by_path[SCIM_USERS] == 2


def test_ends_on_an_empty_page_without_total(emu):
    emu.reset_counters()
    with http_for(emu) as http:
        real_get = http.get

        def without_total(*args, **kw):
            res = real_get(*args, **kw)
            res.data.pop("totalResults", None)
            return res

        http.get = without_total
        users = list_users(None, page_size=200, http=http)
    assert len(users) == 250
    assert emu.requests_by_path[SCIM_USERS] == 3  # 200 + 50 + the empty page


def test_auth_object_and_retries():
    tree = SyntheticWorkspace.generate(30, dirs_per_user=0, objects_per_user=0)
    with WorkspaceEmulator(tree, token=TOKEN, fail_every_n=2) as emu:
        users = list_users(WorkspaceAuth(host=emu.url, token=TOKEN), page_size=7, config=FAST)
        assert len(users) == 30
        assert emu.responses_by_status[200] >= 5 and emu.request_count >= 9


def test_bad_token_raises_without_leaking_it(emu):
    secret = "dapi-do-not-print-me"
    with http_for(emu, token=secret) as http:
        with pytest.raises(ApiError) as info:
            list_users(None, http=http)
    assert info.value.kind == "unauthorized" and "401" in str(info.value)
    assert secret not in str(info.value)


def test_users_file_plain(tmp_path):
    path = tmp_path / "users.txt"
    path.write_text("\n# exported 2025-01-01\nalice@example.com\n  bob@example.com  \n\nalice@example.com\n"
                    "#carol@example.com\ncarol@example.com\n", encoding="utf-8")
    assert [u.username for u in load_users_file(path)] == ["alice@example.com", "bob@example.com",
                                                           "carol@example.com"]
    assert all(u.active is None for u in load_users_file(path))


def test_users_file_csv_with_header(tmp_path):
    path = tmp_path / "users.csv"
    path.write_text("\ufeffUserName,display_name,active\nalice@example.com,Alice,true\nbob@example.com,,false\n"
                    "alice@example.com,Alice again,true\n", encoding="utf-8")
    assert load_users_file(path) == [UserRef("alice@example.com", True, "Alice"),
                                     UserRef("bob@example.com", False, None)]
    assert parse_users_text("username\nx@y.z\n") == [UserRef("x@y.z")]
    assert parse_users_text("# only comments\n\n") == []


def test_write_users_csv_round_trip(tmp_path):
    users = [UserRef("a@example.com", True, "A, with comma"), UserRef("b@example.com", False, None),
             UserRef("c@example.com")]
    out = tmp_path / "sub" / "users.csv"
    assert write_users_csv(users, out) == 3
    assert out.read_text(encoding="utf-8").splitlines()[0] == "username,display_name,active"
    assert load_users_file(out) == users
    plain = tmp_path / "plain.txt"
    write_users_csv(users, plain, header=False)
    assert plain.read_text(encoding="utf-8") == "a@example.com\nb@example.com\nc@example.com\n"
    assert [u.username for u in load_users_file(plain)] == [u.username for u in users]


def test_users_csv_round_trips_formula_like_names(tmp_path):
    from file_records.connectors.workspace.users import UserRef, load_users_file, write_users_csv

    out = tmp_path / "users.csv"
    write_users_csv([UserRef("=cmd@x.com", True, "=HYPERLINK(\"http://evil\")")], out)
    assert "'=HYPERLINK" in out.read_text()
    (back,) = load_users_file(str(out))
    assert back.username == "=cmd@x.com" and back.display_name == '=HYPERLINK("http://evil")'
