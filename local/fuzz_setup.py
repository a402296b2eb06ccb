"""Prepare the fuzzing run: a parent session (SPID through the local
stand-in, merged with a verified email), a renewal draft of the seeded
roster to aim the `{id}` operations at, and a staff token. Writes them into
the output directory given as the second argument."""

import json
import re
import sys
import time
import urllib.request

base, out = sys.argv[1], sys.argv[2]


def call(method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if body is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


for _ in range(300):
    try:
        call("GET", "/v1/demo/windows")
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("the dev server did not start")

email = "fuzz-parent@example.it"
id_token = call("POST", "/_local/id-token", {"fiscal_number": "TINIT-SPSMRC82L09A662D"})["id_token"]
spid = call("POST", "/v1/demo/sessions", {"id_token": id_token})["token"]
call("POST", "/v1/demo/email-codes", {"email": email})
mail = [m for m in call("GET", "/_local/outbox")["messages"] if email in m["to"]][-1]
code = re.search(r"\b\d{6}\b", mail["text"]).group(0)
parent = call("POST", "/v1/demo/sessions", {"email": email, "code": code}, token=spid)["token"]
draft = call("POST", "/v1/demo/renewals", {"user_code": "48213977", "window_id": "w-refezione-2026"}, token=parent)
staff = call("POST", "/_local/staff-token", {"tenant": "demo"})["token"]

for name, value in (("parent_token", parent), ("staff_token", staff), ("application_id", draft["id"])):
    with open(f"{out}/{name}", "w") as f:
        f.write(value)
