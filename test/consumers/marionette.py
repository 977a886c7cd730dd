#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""test/consumers/marionette.py: drives a headless Firefox (started with --marionette
-remote-allow-system-access) for the TLS client-authentication test. Standard library.

    marionette.py --port N --url URL --out PAGE.html --prompts PROMPTS.json
                  [--pin 'TOKEN LABEL=PIN']... [--login 'TOKEN LABEL'] [--timeout S]

1. Connects to Marionette on 127.0.0.1:N (retrying until Firefox listens).
2. In the chrome context, replaces the prompter (contract @mozilla.org/prompter;1) by
   one that answers a PIN prompt whose text names a token given with --pin, and records
   every prompt (title, text, the token it named, answered or not) in a preference.
   This is where a user would see the dialog "Please enter the password for the
   PKCS#11 token <token label>." The prompts asked, not the PINs, go to PROMPTS.json.
3. Optionally logs in to a token first (--login), the way the Security Devices dialog
   "Log In" button does (nsIPKCS11Token.login).
4. Opens URL in the content context, saves the page source, writes PROMPTS.json,
   and quits Firefox.
Exit status 0 when the page loaded; 2 on usage errors; 1 on any other failure.

Wire protocol (Marionette, protocol level 3): each message is "<length>:<JSON>"; the
server greets first; a command is [0, id, name, params], a reply [1, id, error, result].
"""
import argparse
import json
import socket
import sys
import time

PREF = "hpki.test.prompts"

# Runs in the chrome context with arguments [pins, pref]. pins: token label -> PIN.
# nsIPrompt.promptPassword(title, text, password, checkMsg, checkValue) answers with
# password.value; returning false means "Cancel" (NSS then gives up on that token).
INSTALL_PROMPTER = r"""
const [pins, pref] = arguments;
Services.prefs.setStringPref(pref, "[]");
function record(kind, title, text, token, answered) {
  const list = JSON.parse(Services.prefs.getStringPref(pref, "[]"));
  list.push({kind, title: String(title || ""), text: String(text || ""), token, answered});
  Services.prefs.setStringPref(pref, JSON.stringify(list));
}
function tokenIn(text) {
  // The longest label first, so that one label being a prefix of another is harmless.
  const labels = Object.keys(pins).sort((a, b) => b.length - a.length);
  for (const label of labels) {
    if (String(text || "").includes(label)) return label;
  }
  return null;
}
const prompter = {
  QueryInterface: ChromeUtils.generateQI(["nsIPromptFactory", "nsIPrompt", "nsIPromptService"]),
  getPrompt(domWin, iid) { return this.QueryInterface(iid); },
  promptPassword(...args) {
    // nsIPrompt: (title, text, password, checkMsg, checkValue);
    // nsIPromptService: (parent, title, text, password, checkMsg, checkValue).
    const svc = args.length === 6;
    const title = svc ? args[1] : args[0], text = svc ? args[2] : args[1];
    const password = svc ? args[3] : args[2];
    const token = tokenIn(text) || tokenIn(title);
    const answered = token !== null;
    record("promptPassword", title, text, token, answered);
    if (answered) password.value = pins[token];
    return answered;
  },
  promptUsernameAndPassword(...args) { record("promptUsernameAndPassword", "", "", null, false); return false; },
  prompt(...args) { record("prompt", "", "", null, false); return false; },
  confirm(...args) { record("confirm", "", "", null, true); return true; },
  confirmEx(...args) { record("confirmEx", "", "", null, true); return 0; },
  confirmCheck(...args) { record("confirmCheck", "", "", null, true); return true; },
  alert(...args) { record("alert", "", String(args[args.length - 1] || ""), null, true); },
  alertCheck(...args) { record("alertCheck", "", "", null, true); },
  select(...args) { record("select", "", "", null, false); return false; },
};
const factory = {
  QueryInterface: ChromeUtils.generateQI(["nsIFactory"]),
  createInstance(iid) { return prompter.QueryInterface(iid); },
};
const registrar = Components.manager.QueryInterface(Ci.nsIComponentRegistrar);
const cid = Components.ID("{6c1f4a2e-8e0b-4a53-9c55-3f0b8a1d2e71}");
registrar.registerFactory(cid, "HPKI test prompter", "@mozilla.org/prompter;1", factory);
return true;
"""

# Arguments [token label]. Firefox 153: listModules() is a Promise, slots via
# module.slots, token via slot.getToken(), isLoggedIn an attribute.
LOGIN = r"""
const [label] = arguments;
const db = Cc["@mozilla.org/security/pkcs11moduledb;1"].getService(Ci.nsIPKCS11ModuleDB);
const modules = await db.listModules();
for (const module of modules) {
  for (const slot of module.slots) {
    let token;
    try { token = slot.getToken(); } catch (e) { continue; }
    if (token && token.tokenName === label) {
      token.login(false);
      return token.isLoggedIn;
    }
  }
}
return null;
"""

READ_PROMPTS = "return Services.prefs.getStringPref(arguments[0], '[]');"


class Marionette:
    def __init__(self, port, deadline):
        self.next_id = 0
        self.buffer = b""
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("Marionette did not listen on port %d in time" % port)
                time.sleep(0.2)
        self.sock.settimeout(max(5.0, deadline - time.monotonic()))
        hello = self.receive()
        if hello.get("marionetteProtocol") != 3:
            raise RuntimeError("unexpected Marionette greeting: %r" % hello)

    def receive(self):
        while True:
            head, colon, rest = self.buffer.partition(b":")
            if colon:
                length = int(head)
                if len(rest) >= length:
                    self.buffer = rest[length:]
                    return json.loads(rest[:length])
            self.fill()

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise RuntimeError("Marionette closed the connection")
        self.buffer += data

    def command(self, name, params=None):
        self.next_id += 1
        payload = json.dumps([0, self.next_id, name, params or {}]).encode()
        self.sock.sendall(str(len(payload)).encode() + b":" + payload)
        while True:
            reply = self.receive()
            if isinstance(reply, list) and len(reply) == 4 and reply[0] == 1 and reply[1] == self.next_id:
                break
        if reply[2]:
            raise RuntimeError("%s failed: %s" % (name, reply[2].get("message", reply[2])))
        result = reply[3]
        return result.get("value", result) if isinstance(result, dict) else result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--prompts", required=True)
    parser.add_argument("--pin", action="append", default=[], help="'TOKEN LABEL=PIN'")
    parser.add_argument("--login", help="token label to log in to before loading URL")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds for everything")
    args = parser.parse_args()
    pins = {}
    for item in args.pin:
        label, sep, pin = item.rpartition("=")
        if not sep or not label:
            parser.error("--pin wants 'TOKEN LABEL=PIN'")
        pins[label] = pin

    deadline = time.monotonic() + args.timeout
    m = Marionette(args.port, deadline)
    status = 1
    try:
        m.command("WebDriver:NewSession", {"capabilities": {"alwaysMatch": {"acceptInsecureCerts": False}}})
        remaining = int(max(5, deadline - time.monotonic()) * 1000)
        m.command("WebDriver:SetTimeouts", {"script": remaining, "pageLoad": remaining})
        m.command("Marionette:SetContext", {"value": "chrome"})
        m.command("WebDriver:ExecuteScript", {"script": INSTALL_PROMPTER, "args": [pins, PREF]})
        if args.login:
            logged_in = m.command("WebDriver:ExecuteScript", {"script": LOGIN, "args": [args.login]})
            print("login to %r: isLoggedIn=%r" % (args.login, logged_in))
        m.command("Marionette:SetContext", {"value": "content"})
        started = time.monotonic()
        try:
            m.command("WebDriver:Navigate", {"url": args.url})
            print("page loaded in %.2f s" % (time.monotonic() - started))
            status = 0
        except RuntimeError as error:
            print("navigation failed: %s" % error)
        source = m.command("WebDriver:GetPageSource")
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(source if isinstance(source, str) else json.dumps(source))
        m.command("Marionette:SetContext", {"value": "chrome"})
        prompts = json.loads(m.command("WebDriver:ExecuteScript", {"script": READ_PROMPTS, "args": [PREF]}))
        with open(args.prompts, "w", encoding="utf-8") as f:
            json.dump(prompts, f, indent=1, ensure_ascii=False)
        for p in prompts:
            print("prompt: %s %r answered=%s" % (p["kind"], p["text"], p["answered"]))
    finally:
        try:
            m.command("Marionette:Quit", {"flags": ["eForceQuit"]})
        except (RuntimeError, OSError):
            pass
    return status


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError, ValueError) as error:
        print("marionette.py: %s" % error, file=sys.stderr)
        sys.exit(1)
