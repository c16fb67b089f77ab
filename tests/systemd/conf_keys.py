#!/usr/bin/env python3
"""The shipped epollchatd.conf matches epollchatd.conf(5) and the daemon.

Usage: conf_keys.py CONF PAGE   (env EPOLLCHATD=built daemon)

- the keys the page documents are exactly the daemon's long options (as
  `epollchatd --help` lists them) but those that are not settings
  (NOT_KEYS);
- every "# key = value" line of the shipped file is a key the page
  documents, and every key the page documents is in the file;
- the file as shipped (all commented out) passes --check-config;
- so does a copy with every key uncommented, i.e. the example values in
  the comments are valid and are the values the daemon accepts. Keys that
  name a file the daemon reads (FILE_KEYS) get, in that copy, a file of
  this test's own in place of the example path, which must be absolute;
  tls-cert and tls-key get a throw-away pair that openssl makes.
"""

import os
import re
import subprocess
import sys
import tempfile

from program_help import help_options

COMMENTED_SETTING = re.compile(r"^#\s*([a-z][a-z-]*)\s*=\s*(\S.*?)\s*$")
# In KEYS, each key opens a tagged paragraph: .BI "max\-line = " bytes
PAGE_KEY = re.compile(r'^\.BI\s+"([a-z][a-z\\-]*) = "', re.MULTILINE)
# Long options of the command line alone, which are no keys.
NOT_KEYS = {"config", "check-config", "help", "version"}
# Key -> contents of the stand-in file for its example path (None: made by
# tls_pair()).
FILE_KEYS = {"redis-password-file": "example-password\n",
             "tls-cert": None, "tls-key": None}


def tls_pair(scratch: str) -> dict[str, str]:
    """A self-signed certificate and its key, as the contents of tls-cert and
    tls-key, so that a copy that sets tls-port passes --check-config."""
    cert = os.path.join(scratch, "pair.pem")
    key = os.path.join(scratch, "pair.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "2", "-subj", "/CN=localhost",
                    "-keyout", key, "-out", cert],
                   capture_output=True, check=True, timeout=60)
    with open(cert, encoding="ascii") as c, open(key, encoding="ascii") as k:
        return {"tls-cert": c.read(), "tls-key": k.read()}


def check_config(daemon: str, path: str) -> bool:
    cmd = [daemon, "--check-config", "-c", path]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                          timeout=20)
    if proc.returncode != 0:
        print(f"FAIL: {' '.join(cmd)} exited {proc.returncode}")
        print((proc.stdout + proc.stderr).strip())
        return False
    print(f"ok   {' '.join(cmd)}")
    return True


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    conf, page = sys.argv[1:]
    daemon = os.environ.get("EPOLLCHATD", "")

    with open(conf, encoding="utf-8") as f:
        lines = f.read().splitlines()
    settings = [m for m in map(COMMENTED_SETTING.match, lines) if m]
    active = [l for l in lines if l.strip() and not l.lstrip().startswith("#")]
    with open(page, encoding="utf-8") as f:
        page_keys = {k.replace("\\-", "-") for k in PAGE_KEY.findall(f.read())}

    ok = True
    options = help_options(daemon)
    if options is None:
        ok = False
    else:
        setting_keys = {o[2:] for o in options if o.startswith("--")} - NOT_KEYS
        for key in sorted(setting_keys - page_keys):
            print(f"FAIL: option --{key} of {daemon} is not a key in {page}")
            ok = False
        for key in sorted(page_keys - setting_keys):
            print(f"FAIL: key '{key}' of {page} is not an option of {daemon}")
            ok = False
    if active:
        print(f"FAIL: {conf} sets something; the shipped file must only "
              f"comment: {active}")
        ok = False
    file_keys = [m.group(1) for m in settings]
    if len(set(file_keys)) != len(file_keys):
        print(f"FAIL: {conf} repeats a key: {file_keys}")
        ok = False
    for key in sorted(set(file_keys) - page_keys):
        print(f"FAIL: key '{key}' of {conf} is not documented in {page}")
        ok = False
    for key in sorted(page_keys - set(file_keys)):
        print(f"FAIL: key '{key}' of {page} is missing from {conf}")
        ok = False
    print(f"keys: {', '.join(file_keys)}")

    ok &= check_config(daemon, conf)
    with tempfile.TemporaryDirectory(prefix="epollchatd-") as scratch:
        values = {}
        made = tls_pair(scratch)
        for m in settings:
            key, value = m.group(1), m.group(2)
            if key in FILE_KEYS:
                if not value.startswith("/"):
                    print(f"FAIL: example path of {key} is not absolute: {value}")
                    ok = False
                value = os.path.join(scratch, key)
                with open(value, "w", encoding="utf-8") as f:
                    f.write(FILE_KEYS[key] or made[key])
            values[key] = value
        copy = os.path.join(scratch, "epollchatd.conf")
        with open(copy, "w", encoding="utf-8") as f:
            f.write("".join(f"{key} = {value}\n" for key, value in values.items()))
        ok &= check_config(daemon, copy)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
