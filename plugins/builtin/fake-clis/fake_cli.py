#!/usr/bin/env python3
"""Fake vendor CLIs for testing Wharf's (and Kamal's) secrets adapters without a vault.

One program behind the names op, bw, bws, lpass, doppler, aws, gcloud, passbolt and enpass-cli
(symbolic links to this file): it answers the calls Kamal's adapters make, with the output
formats of the real tools as Kamal's tests stub them, from the vault content and login state in
the directory named by $WHARF_FAKE_CLI_DIR:

  <dir>/<tool>.json   the tool's vault and state (see each handler); login changes are saved
  <dir>/calls.log     every call appended as one line: the argv shell-quoted, prefixed with
                      `BW_SESSION=...` when that variable is set (bw only)

Any call a handler does not know exits 2 with `fake <tool>: unknown call: ...` on stderr. A
`"version_fails": true` in the tool's JSON makes `<tool> --version` fail (the "CLI is not
installed" check).
"""

import base64
import json
import os
import re
import shlex
import sys
import zlib

TOOL = os.path.basename(sys.argv[0])
ARGS = sys.argv[1:]
DIR = os.environ.get("WHARF_FAKE_CLI_DIR")


def fail(message, code=1, stdout=""):
    if stdout:
        sys.stdout.write(stdout)
    sys.stderr.write(message + "\n")
    sys.exit(code)


def unknown():
    fail(f"fake {TOOL}: unknown call: {shlex.join(ARGS)}", 2)


if not DIR:
    fail(f"fake {TOOL}: WHARF_FAKE_CLI_DIR is not set", 2)

DATA_PATH = os.path.join(DIR, f"{TOOL}.json")


def load():
    try:
        with open(DATA_PATH) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def save(data):
    with open(DATA_PATH, "w") as f:
        json.dump(data, f, indent=2)


def log_call():
    prefix = ""
    if TOOL == "bw" and "BW_SESSION" in os.environ:
        prefix = "BW_SESSION=" + shlex.quote(os.environ["BW_SESSION"]) + " "
    with open(os.path.join(DIR, "calls.log"), "a") as f:
        f.write(prefix + shlex.join([TOOL] + ARGS) + "\n")


def out(obj, indent=None):
    sys.stdout.write(json.dumps(obj, indent=indent, ensure_ascii=False) + "\n")


def options(args, flags, multi=()):
    """Parses `--name value` / `--name=value` options; returns (positional, {name: value})."""
    pos, opts = [], {}
    i = 0
    while i < len(args):
        a = args[i]
        name, eq, val = a.partition("=")
        if a.startswith("-") and name in flags:
            if flags[name]:
                if not eq:
                    i += 1
                    val = args[i] if i < len(args) else unknown()
                if name in multi:
                    opts.setdefault(name, []).append(val)
                else:
                    opts[name] = val
            else:
                opts[name] = True
        elif a.startswith("-"):
            unknown()
        else:
            pos.append(a)
        i += 1
    return pos, opts


DATA = load()
log_call()


def version(text):
    if DATA.get("version_fails"):
        fail(f"{TOOL}: broken installation", 1)
    print(text)
    sys.exit(0)


# --- 1Password: op.json = {"accounts": {"ACCT": {"signed_in": bool, "session": "TOKEN"}},
#     "vaults": {"VAULT": {"ITEM": {..., "fields": [{"section": {"label"}, "label", "value",
#     "reference"}, ...]}}}, "raw_item_output": "TEXT" (optional: what every `op item get`
#     prints instead)}
def op():
    if ARGS == ["--version"]:
        version("2.30.0")
    accounts = DATA.setdefault("accounts", {})
    if ARGS[:2] == ["account", "get"]:
        _, o = options(ARGS[2:], {"--account": True})
        acct = accounts.get(o.get("--account"))
        if not acct or not acct.get("signed_in"):
            fail(f"[ERROR] account is not signed in")
        out({"id": "ACCOUNTID", "name": o["--account"], "state": "ACTIVE"}, 2)
        sys.exit(0)
    if ARGS[:1] == ["signin"]:
        _, o = options(ARGS[1:], {"--account": True, "--force": False, "--raw": False})
        acct = accounts.get(o.get("--account"))
        if not acct or acct.get("signin_fails") or not o.get("--raw"):
            fail("[ERROR] sign in failed")
        acct["signed_in"] = True
        save(DATA)
        sys.stdout.write(acct.get("session", ""))
        sys.exit(0)
    if ARGS[:2] == ["item", "get"]:
        pos, o = options(
            ARGS[2:],
            {"--vault": True, "--format": True, "--account": True, "--session": True, "--fields": True},
        )
        if len(pos) != 1 or o.get("--format") != "json":
            unknown()
        acct = accounts.get(o.get("--account"))
        session_ok = acct and "--session" in o and o["--session"] == acct.get("session")
        if not acct or not (acct.get("signed_in") or session_ok):
            fail("[ERROR] You are not currently signed in.")
        if "raw_item_output" in DATA:
            # For testing how the adapter takes output that is not what op prints.
            sys.stdout.write(DATA["raw_item_output"])
            sys.exit(0)
        item = DATA.get("vaults", {}).get(o.get("--vault"), {}).get(pos[0])
        if item is None:
            fail(f"[ERROR] \"{pos[0]}\" isn't an item in the \"{o.get('--vault')}\" vault.")
        if "--fields" not in o:
            out(item, 2)
            sys.exit(0)
        found = []
        for spec in o["--fields"].split(","):
            if not spec.startswith("label="):
                unknown()
            want = spec[len("label="):]
            match = None
            for f in item.get("fields", []):
                section = (f.get("section") or {}).get("label")
                if want in (f.get("label"), f"{section}.{f.get('label')}"):
                    match = f
                    break
            if match is None:
                fail(f"[ERROR] \"{want}\" isn't a field in the \"{pos[0]}\" item.")
            found.append(match)
        out(found[0] if len(found) == 1 else found, 2)
        sys.exit(0)
    unknown()


# --- Bitwarden: bw.json = {"account": "EMAIL", "status": "unauthenticated|locked|unlocked",
#     "session": "TOKEN", "items": {"NAME": {...item...}}}
def bw():
    if ARGS == ["--version"]:
        version("2024.9.0")
    session = os.environ.get("BW_SESSION")
    status = DATA.get("status", "unauthenticated")
    if status == "locked" and session and session == DATA.get("session"):
        status = "unlocked"
    if ARGS == ["status"]:
        body = {"serverUrl": None, "lastSync": "2024-09-04T10:11:12.433Z", "status": status}
        if status != "unauthenticated":
            body = {
                "serverUrl": None,
                "lastSync": "2024-09-04T10:11:12.433Z",
                "userEmail": DATA.get("account"),
                "userId": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
                "status": status,
            }
        sys.stdout.write(json.dumps(body, separators=(",", ":")))
        sys.exit(0)
    if len(ARGS) == 2 and ARGS[0] == "login":
        if ARGS[1] != DATA.get("account") or DATA.get("login_fails"):
            fail("Username or password is incorrect. Try again.")
        DATA["status"] = "locked"
        save(DATA)
        print("You are logged in!")
        sys.exit(0)
    if ARGS == ["unlock", "--raw"]:
        if status == "unauthenticated":
            fail("You are not logged in.")
        sys.stdout.write(DATA.get("session", ""))
        sys.exit(0)
    if status != "unlocked" and ARGS[:1] in (["sync"], ["get"]):
        fail("Vault is locked." if status == "locked" else "You are not logged in.")
    if ARGS == ["sync"]:
        print("Syncing complete.")
        sys.exit(0)
    if len(ARGS) == 3 and ARGS[:2] == ["get", "item"]:
        item = DATA.get("items", {}).get(ARGS[2])
        if item is None:
            fail("Not found.")
        sys.stdout.write(json.dumps(item, separators=(",", ":"), ensure_ascii=False))
        sys.exit(0)
    unknown()


# --- Bitwarden Secrets Manager: bws.json = {"access_token": "T" (checked against
#     $BWS_ACCESS_TOKEN when set), "projects": [{"id", "name"}], "secrets": [{"id", "key",
#     "value", "projectId"}]}
def bws():
    if ARGS == ["--version"]:
        version("bws 1.0.0")
    token = DATA.get("access_token")
    if token is not None and os.environ.get("BWS_ACCESS_TOKEN") != token:
        fail("Error:\n   0: Missing access token")
    secrets = DATA.get("secrets", [])

    def full(s):
        return {
            "object": "secret",
            "id": s["id"],
            "organizationId": "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb",
            "projectId": s.get("projectId"),
            "key": s["key"],
            "value": s["value"],
            "note": "",
            "creationDate": "2024-09-04T10:11:12.433Z",
            "revisionDate": "2024-09-04T10:11:12.433Z",
        }

    if ARGS == ["project", "list"]:
        out(DATA.get("projects", []), 2)
        sys.exit(0)
    if len(ARGS) == 3 and ARGS[:2] == ["secret", "get"]:
        for s in secrets:
            if s["id"] == ARGS[2]:
                out(full(s), 2)
                sys.exit(0)
        fail("Error:\n   0: Received error message from server: [404 Not Found] {\"message\":\"Resource not found.\"}")
    if ARGS[:2] == ["secret", "list"] and len(ARGS) <= 3:
        project = ARGS[2] if len(ARGS) == 3 else None
        if project is not None and not any(p["id"] == project for p in DATA.get("projects", [])):
            fail("Error:\n   0: Received error message from server: [404 Not Found] {\"message\":\"Resource not found.\"}")
        out([full(s) for s in secrets if project is None or s.get("projectId") == project], 2)
        sys.exit(0)
    unknown()


# --- LastPass: lpass.json = {"account": "EMAIL", "logged_in": bool, "entries": [{"id",
#     "name", "fullname", "username", "password", ...}]}
def lpass():
    if ARGS == ["--version"]:
        version("LPass CLI v1.6.1")
    if ARGS == ["status", "--color", "never"]:
        if DATA.get("logged_in"):
            print(f"Logged in as {DATA.get('account')}.")
            sys.exit(0)
        fail("", 1, "Not logged in.\n")
    if len(ARGS) == 2 and ARGS[0] == "login":
        if ARGS[1] != DATA.get("account") or DATA.get("login_fails"):
            fail("Error: Failed to enter correct password.")
        DATA["logged_in"] = True
        save(DATA)
        print(f"Success: Logged in as {ARGS[1]}.")
        sys.exit(0)
    if ARGS[:1] == ["show"] and ARGS[-1:] == ["--json"] and len(ARGS) > 2:
        if not DATA.get("logged_in"):
            fail("Error: Could not find decryption key. Perhaps you need to login with `lpass login`.")
        found = []
        for name in ARGS[1:-1]:
            matches = [e for e in DATA.get("entries", []) if name in (e.get("fullname"), e.get("name"), e.get("id"))]
            if not matches:
                fail("Error: Could not find specified account(s).")
            for e in matches:
                full = {
                    "id": e.get("id", "0"),
                    "name": e.get("name"),
                    "fullname": e.get("fullname"),
                    "username": e.get("username", ""),
                    "password": e.get("password"),
                    "last_modified_gmt": "1724407209",
                    "last_touch": "0",
                    "group": e.get("group", ""),
                    "url": "",
                    "note": "",
                }
                found.append(full)
        out(found, 2)
        sys.exit(0)
    unknown()


# --- Doppler: doppler.json = {"logged_in": bool, "projects": {"PROJECT": {"CONFIG": {"NAME":
#     "value"}}}, "service_tokens": {"dp.st.xxx": "PROJECT/CONFIG"}}
def doppler():
    if ARGS == ["--version"]:
        version("v3.69.0")
    token = os.environ.get("DOPPLER_TOKEN")
    tokens = DATA.get("service_tokens", {})
    if ARGS == ["me", "--json"]:
        if DATA.get("logged_in") or (token and token in tokens):
            out({"name": "fake", "type": "cli" if not token else "service_token"}, 2)
            sys.exit(0)
        fail("Doppler Error: you must provide a token")
    if ARGS == ["login", "-y"]:
        if DATA.get("login_fails"):
            fail("Doppler Error: login failed")
        DATA["logged_in"] = True
        save(DATA)
        print("Welcome, Fake")
        sys.exit(0)
    if ARGS[:2] == ["secrets", "get"]:
        names, o = options(ARGS[2:], {"--json": False, "-p": True, "-c": True})
        if not o.get("--json") or not names:
            unknown()
        if token and token in tokens:
            scope = tokens[token]
        elif DATA.get("logged_in") and "-p" in o and "-c" in o:
            scope = f"{o['-p']}/{o['-c']}"
        elif DATA.get("logged_in"):
            fail("Doppler Error: You must specify a project")
        else:
            fail("Doppler Error: you must provide a token")
        project, _, config = scope.partition("/")
        values = DATA.get("projects", {}).get(project, {}).get(config)
        if values is None:
            fail(f"Doppler Error: Could not find requested config '{config}'")
        body = {}
        for n in names:
            if n not in values:
                fail(f"Doppler Error: Could not find requested secret: {n}")
            body[n] = {"computed": values[n], "computedVisibility": "unmasked", "note": ""}
        out(body, 2)
        sys.exit(0)
    unknown()


# --- AWS: aws.json = {"profiles": ["default", ...] (a --profile not listed fails),
#     "secrets": {"NAME": "SecretString"}}
def aws():
    if ARGS == ["--version"]:
        version("aws-cli/2.17.0 Python/3.11.9 Linux/6.1.0 exe/x86_64.debian.12")
    if ARGS[:3] != ["secretsmanager", "batch-get-secret-value", "--secret-id-list"]:
        unknown()
    rest = ARGS[3:]
    ids = []
    while rest and not rest[0].startswith("--"):
        ids.append(rest.pop(0))
    _, o = options(rest, {"--profile": True, "--output": True})
    if o.get("--output") != "json":
        unknown()
    profile = o.get("--profile", "default")
    if profile not in DATA.get("profiles", ["default"]):
        fail(f"\nThe config profile ({profile}) could not be found", 255)
    if not ids:
        fail("\naws: error: argument --secret-id-list: expected at least one argument", 252)
    values, errors = [], []
    for i in ids:
        secret = DATA.get("secrets", {}).get(i)
        if secret is None:
            errors.append(
                {
                    "SecretId": i,
                    "ErrorCode": "ResourceNotFoundException",
                    "Message": "Secrets Manager can't find the specified secret.",
                }
            )
            continue
        values.append(
            {
                "ARN": f"arn:aws:secretsmanager:us-east-1:aaaaaaaaaaaa:secret:{i}-KXc1Zq",
                "Name": i,
                "VersionId": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
                "SecretString": secret,
                "VersionStages": ["AWSCURRENT"],
                "CreatedDate": "2024-01-01T12:00:00.000000+00:00",
            }
        )
    out({"SecretValues": values, "Errors": errors}, 4)
    sys.exit(0)


# --- gcloud: gcloud.json = {"accounts": ["EMAIL"] (logged in), "login_account": "EMAIL"
#     (what `gcloud auth login` adds), "default_project": "P", "service_accounts": ["SA"],
#     "projects": {"P": {"NAME": ["v1 value", "v2 value"]}}}
def gcloud():
    if ARGS == ["--version"]:
        version("Google Cloud SDK 480.0.0\nbq 2.1.5\ncore 2024.06.21")
    accounts = DATA.setdefault("accounts", [])
    if ARGS == ["auth", "list", "--format=json"]:
        out([{"account": a, "status": "ACTIVE" if n == 0 else ""} for n, a in enumerate(accounts)], 2)
        sys.exit(0)
    if ARGS == ["auth", "login"]:
        who = DATA.get("login_account")
        if not who:
            fail("ERROR: (gcloud.auth.login) There was a problem with web authentication.")
        accounts.append(who)
        save(DATA)
        sys.stderr.write(f"\nYou are now logged in as [{who}].\n")
        sys.exit(0)
    if ARGS[:3] == ["secrets", "versions", "access"]:
        pos, o = options(
            ARGS[3:],
            {"--secret": True, "--project": True, "--account": True, "--impersonate-service-account": True,
             "--format": True},
        )
        if len(pos) != 1 or o.get("--format") != "json" or "--secret" not in o:
            unknown()
        if not accounts:
            fail("ERROR: (gcloud.secrets.versions.access) You do not currently have an active account selected.")
        if "--account" in o and o["--account"] not in accounts:
            fail(f"ERROR: (gcloud.secrets.versions.access) Your current active account [{o['--account']}] does not have any valid credentials")
        sa = o.get("--impersonate-service-account")
        if sa is not None and any(s not in DATA.get("service_accounts", []) for s in sa.split(",")):
            fail("ERROR: (gcloud.secrets.versions.access) PERMISSION_DENIED: Failed to impersonate [" + sa + "]")
        project = o.get("--project", DATA.get("default_project", "default-project"))
        name, version_ = o["--secret"], pos[0]
        versions = DATA.get("projects", {}).get(project, {}).get(name)
        path = f"projects/{project}/secrets/{name}"
        if not versions:
            fail(f"ERROR: (gcloud.secrets.versions.access) NOT_FOUND: Secret [{path}] not found or has no versions.")
        n = len(versions) if version_ == "latest" else int(version_) if version_.isdigit() else 0
        if not 1 <= n <= len(versions):
            fail(f"ERROR: (gcloud.secrets.versions.access) NOT_FOUND: Secret Version [{path}/versions/{version_}] not found.")
        data = versions[n - 1].encode()
        out(
            {
                "name": f"projects/000000000/secrets/{name}/versions/{n}",
                "payload": {"data": base64.b64encode(data).decode(), "dataCrc32c": str(zlib.crc32(data))},
            },
            2,
        )
        sys.exit(0)
    unknown()


# --- Passbolt: passbolt.json = {"verified": bool, "folders": [{"id", "name",
#     "folder_parent_id"}], "resources": [{"id", "name", "password", "folder_parent_id",
#     "username"}]}. Filters are the CEL subset Kamal writes: Name/FolderParentID == "string",
#     &&, ||, parentheses.
def cel(expr, record):
    tokens = re.findall(r'\(|\)|&&|\|\||==|"(?:[^"\\]|\\.)*"|[A-Za-z_]+|\S', expr)
    pos = [0]

    def peek():
        return tokens[pos[0]] if pos[0] < len(tokens) else None

    def take(expected=None):
        t = peek()
        if t is None or (expected and t != expected):
            fail(f"Error: Filter: invalid expression: {expr}")
        pos[0] += 1
        return t

    def primary():
        if peek() == "(":
            take("(")
            v = disj()
            take(")")
            return v
        field = take()
        take("==")
        lit = take()
        if not lit.startswith('"'):
            fail(f"Error: Filter: invalid expression: {expr}")
        value = re.sub(r"\\(.)", r"\1", lit[1:-1])
        if field not in record:
            fail(f"Error: Filter: undeclared reference to '{field}'")
        return record[field] == value

    def conj():
        v = primary()
        while peek() == "&&":
            take()
            v = primary() and v
        return v

    def disj():
        v = conj()
        while peek() == "||":
            take()
            v = conj() or v
        return v

    result = disj()
    if peek() is not None:
        fail(f"Error: Filter: invalid expression: {expr}")
    return result


def passbolt():
    if ARGS == ["--version"]:
        version("passbolt version 0.3.2")
    if ARGS == ["verify"]:
        if not DATA.get("verified", True):
            fail("Error: Verifying Server: no user found for this private key")
        print("Private Key matches Server Key\nLogin Token Verified")
        sys.exit(0)
    if not DATA.get("verified", True):
        fail("Error: Client Login: no user found for this private key")
    if ARGS[:2] == ["list", "folders"]:
        _, o = options(ARGS[2:], {"--filter": True, "--json": False})
        if not o.get("--json"):
            unknown()
        rows = []
        for f in DATA.get("folders", []):
            rec = {"ID": f["id"], "Name": f["name"], "FolderParentID": f.get("folder_parent_id", "")}
            if "--filter" in o and not cel(o["--filter"], rec):
                continue
            rows.append(
                {
                    "id": f["id"],
                    "folder_parent_id": f.get("folder_parent_id", ""),
                    "name": f["name"],
                    "created_timestamp": "2025-02-21T06:04:29Z",
                    "modified_timestamp": "2025-02-21T06:04:29Z",
                }
            )
        out(rows, 2)
        sys.exit(0)
    if ARGS[:2] == ["list", "resources"]:
        _, o = options(
            ARGS[2:], {"--filter": True, "--json": False, "--folder": True, "--column": True}, multi=("--folder", "--column")
        )
        if not o.get("--json"):
            unknown()
        columns = [c.lower() for c in o.get("--column", ["id", "folderparentid", "name", "username", "uri"])]
        keys = {"id": "id", "folderparentid": "folder_parent_id", "name": "name", "username": "username",
                "uri": "uri", "password": "password", "description": "description"}
        rows = []
        for r in DATA.get("resources", []):
            parent = r.get("folder_parent_id", "")
            if "--folder" in o and parent not in o["--folder"]:
                continue
            rec = {"ID": r["id"], "Name": r["name"], "FolderParentID": parent, "Username": r.get("username", "")}
            if "--filter" in o and not cel(o["--filter"], rec):
                continue
            full = {"id": r["id"], "folder_parent_id": parent, "name": r["name"], "username": r.get("username", ""),
                    "uri": r.get("uri", ""), "password": r.get("password", ""), "description": ""}
            rows.append({keys[c]: full[keys[c]] for c in columns if c in keys})
        out(rows, 2)
        sys.exit(0)
    unknown()


# --- Enpass: enpass-cli.json = {"vaults": {"PATH": [{"title", "label", "password", "login",
#     "category", "type"}]}}
def enpass_cli():
    if ARGS == ["version"]:
        version("enpass-cli v1.6.2")
    if ARGS[:3] == ["-json", "-vault"] + ARGS[2:3] and ARGS[3:4] == ["show"]:
        vault = DATA.get("vaults", {}).get(ARGS[2])
        if vault is None:
            fail(f"level=fatal msg=\"could not open vault: vault does not exist: {ARGS[2]}\"")
        titles = ARGS[4:]
        rows = [
            {
                "category": e.get("category", "computer"),
                "label": e.get("label", ""),
                "login": e.get("login", ""),
                "password": e.get("password", ""),
                "title": e["title"],
                "type": e.get("type", "password"),
            }
            for e in vault
            if not titles or e["title"] in titles
        ]
        out(rows)
        sys.exit(0)
    unknown()


HANDLERS = {
    "op": op,
    "bw": bw,
    "bws": bws,
    "lpass": lpass,
    "doppler": doppler,
    "aws": aws,
    "gcloud": gcloud,
    "passbolt": passbolt,
    "enpass-cli": enpass_cli,
}

if TOOL not in HANDLERS:
    fail(f"fake CLI: unknown tool {TOOL}", 2)
HANDLERS[TOOL]()
unknown()
