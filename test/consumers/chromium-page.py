#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/consumers/chromium-page.py: starts Chromium in a real window (DISPLAY) with the
# DevTools protocol on a pipe (--remote-debugging-pipe, file descriptors 3 and 4; no
# network port) and reads what the page shows, so the test sees the same page a user
# sees. It does not touch any dialog: the PIN dialog and the certificate picker are
# answered in the window with xdotool by the calling test.
#
#   chromium-page.py --pid-file F --out PAGE.txt --expect TEXT --timeout S [--linger S2]
#                    URL -- CHROMIUM ARGS...
#
# Chromium runs in its own session (process group = its PID, written to F at once, for
# the caller's clean-up). Every 0.5 s the page's state is read:
#   "<readyState>|<location.href>|<document.title>" then document.body.innerText
# and written to PAGE.txt. Exit 0 as soon as the page at URL is complete and its text
# contains TEXT (PAGE.txt is written at once, then the window stays S2 seconds, default
# 0, for a screenshot); 1 at the timeout (PAGE.txt has the last state); 2 on usage
# errors. Chromium is asked to close (Browser.close) before the exit either way.
import json
import os
import subprocess
import sys
import time


def main(argv):
    try:
        sep = argv.index("--")
    except ValueError:
        sys.stderr.write("usage: see the header of this file\n")
        return 2
    opts, browser = argv[1:sep], argv[sep + 1:]
    pid_file = out = expect = url = None
    timeout = 60.0
    linger = 0.0
    i = 0
    while i < len(opts):
        if opts[i] == "--pid-file":
            pid_file = opts[i + 1]; i += 2
        elif opts[i] == "--out":
            out = opts[i + 1]; i += 2
        elif opts[i] == "--expect":
            expect = opts[i + 1]; i += 2
        elif opts[i] == "--linger":
            linger = float(opts[i + 1]); i += 2
        elif opts[i] == "--timeout":
            timeout = float(opts[i + 1]); i += 2
        else:
            url = opts[i]; i += 1
    if not (pid_file and out and expect and url and browser):
        sys.stderr.write("usage: see the header of this file\n")
        return 2

    # fd 3: Chromium reads commands; fd 4: Chromium writes replies and events.
    cmd_r, cmd_w = os.pipe()
    rep_r, rep_w = os.pipe()

    def child_fds():
        os.dup2(cmd_r, 3)
        os.dup2(rep_w, 4)

    proc = subprocess.Popen(browser + ["--remote-debugging-pipe", url],
                            pass_fds=(3, 4), preexec_fn=child_fds,
                            start_new_session=True, stdin=subprocess.DEVNULL)
    with open(pid_file, "w") as f:
        f.write("%d\n" % proc.pid)
    os.close(cmd_r)
    os.close(rep_w)
    os.set_blocking(rep_r, False)
    buf = b""
    next_id = [0]
    pending = {}

    def send(method, params=None, session=None):
        next_id[0] += 1
        msg = {"id": next_id[0], "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(cmd_w, json.dumps(msg).encode() + b"\0")
        return next_id[0]

    def pump(wait):
        nonlocal buf
        end = time.time() + wait
        while True:
            try:
                data = os.read(rep_r, 1 << 16)
                if not data:
                    return False
                buf += data
            except BlockingIOError:
                pass
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                m = json.loads(raw)
                if "id" in m:
                    pending[m["id"]] = m
            if time.time() >= end:
                return True
            time.sleep(0.05)

    def call(method, params=None, session=None, wait=10.0):
        n = send(method, params, session)
        end = time.time() + wait
        while n not in pending and time.time() < end:
            if not pump(0.1):
                break
        return pending.pop(n, None)

    deadline = time.time() + timeout
    session = None
    ok = False
    state = "no page target"
    while time.time() < deadline and proc.poll() is None:
        if session is None:
            r = call("Target.getTargets")
            pages = [t for t in (r or {}).get("result", {}).get("targetInfos", [])
                     if t.get("type") == "page"]
            if pages:
                r = call("Target.attachToTarget",
                         {"targetId": pages[0]["targetId"], "flatten": True})
                session = (r or {}).get("result", {}).get("sessionId")
        if session:
            r = call("Runtime.evaluate", {
                "expression": "document.readyState + '|' + location.href + '|' + "
                              "document.title + '\\n' + "
                              "(document.body ? document.body.innerText : '')",
                "returnByValue": True}, session, wait=2.0)
            value = (r or {}).get("result", {}).get("result", {}).get("value")
            if isinstance(value, str):
                state = value
                head = value.split("\n", 1)[0].split("|")
                if (head[0] == "complete" and len(head) > 1
                        and head[1].rstrip("/") == url.rstrip("/") and expect in value):
                    ok = True
                    break
        pump(0.5)
    with open(out + ".tmp", "w") as f:
        f.write(state + "\n")
    os.rename(out + ".tmp", out)
    if ok and linger > 0:
        pump(linger)
    if proc.poll() is None:
        call("Browser.close", wait=5.0)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
