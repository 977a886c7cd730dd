#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/consumers/lo-uno.py: small Python-UNO client for the LibreOffice GUI tests
# (libreoffice-*.sh). It talks to an office started with
#   soffice ... "--accept=pipe,name=PIPE;urp;"
# and never answers a dialog itself: the dialogs are answered in the real window
# with xdotool, as a user does. Run with /usr/bin/python3 (python3-uno).
#
#   lo-uno.py --pipe P make-doc FILE.odt TEXT   new Writer document with TEXT, saved as ODF
#   lo-uno.py --pipe P open FILE                load FILE in a visible window
#   lo-uno.py --pipe P dispatch COMMAND         dispatch COMMAND (.uno:Signature,
#                                               .uno:ExportToPDF, ...) to the frame of
#                                               the current document; returns when the
#                                               dialog it opens has been closed
#   lo-uno.py --pipe P signatures FILE.odt      LibreOffice's own verification of the
#                                               document signatures: one line per
#                                               signature "valid=0|1 cert_status=N
#                                               subject=..." (N: 0 = valid certificate)
#   lo-uno.py --pipe P close-all                close every document without saving
#   lo-uno.py --pipe P quit                     terminate the office
# Exit status 0 on success, 1 on an error (printed), 2 on usage errors.
import sys
import time

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def connect(pipe, seconds=60):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.time() + seconds
    while True:
        try:
            return resolver.resolve(
                "uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.3)


def url(path):
    return uno.systemPathToFileUrl(path)


def desktop_of(ctx):
    return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)


def make_doc(ctx, path, text):
    desk = desktop_of(ctx)
    doc = desk.loadComponentFromURL("private:factory/swriter", "_blank", 0,
                                    (prop("Hidden", True),))
    body = doc.getText()
    for i, line in enumerate(text.split("\\n")):
        if i:
            body.insertControlCharacter(body.getEnd(), 0, False)  # PARAGRAPH_BREAK
        body.insertString(body.getEnd(), line, False)
    doc.storeToURL(url(path), (prop("FilterName", "writer8"),))
    doc.close(True)


def open_doc(ctx, path):
    desk = desktop_of(ctx)
    doc = desk.loadComponentFromURL(url(path), "_default", 0, ())
    if doc is None:
        raise RuntimeError("could not open " + path)


def dispatch(ctx, command):
    desk = desktop_of(ctx)
    frame = desk.getCurrentFrame()
    if frame is None:
        comps = desk.getComponents().createEnumeration()
        while comps.hasMoreElements():
            c = comps.nextElement()
            frame = c.getCurrentController().getFrame()
    if frame is None:
        raise RuntimeError("no document frame")
    helper = ctx.ServiceManager.createInstanceWithContext(
        "com.sun.star.frame.DispatchHelper", ctx)
    helper.executeDispatch(frame, command, "", 0, ())


def signatures(ctx, path):
    # As LibreOffice does when it opens a document: the package as a plain zip storage
    # (META-INF is hidden in the package format), the verifier for the document's ODF
    # version. CertificateStatus is a com.sun.star.security.CertificateValidity (0 =
    # VALID: the chain ends at a root that the NSS database trusts).
    smgr = ctx.ServiceManager
    factory = smgr.createInstanceWithContext("com.sun.star.embed.StorageFactory", ctx)
    package = factory.createInstanceWithArguments((url(path), 1))  # ElementModes.READ
    version = package.getPropertyValue("Version")
    package.dispose()
    zipfmt = uno.Any("[]com.sun.star.beans.PropertyValue", (prop("StorageFormat", "ZipFormat"),))
    storage = uno.invoke(factory, "createInstanceWithArguments", ((url(path), 1, zipfmt),))
    dds = smgr.createInstanceWithArgumentsAndContext(
        "com.sun.star.security.DocumentDigitalSignatures", (version, True), ctx)
    infos = dds.verifyDocumentContentSignatures(storage, None)
    for i in infos:
        print("valid=%d cert_status=%d odf=%s subject=%s issuer=%s" % (
            1 if i.SignatureIsValid else 0, i.CertificateStatus, version,
            i.Signer.SubjectName if i.Signer else "-",
            i.Signer.IssuerName if i.Signer else "-"))
    storage.dispose()
    return len(infos)


def close_all(ctx):
    comps = desktop_of(ctx).getComponents().createEnumeration()
    while comps.hasMoreElements():
        c = comps.nextElement()
        try:
            c.setModified(False)
        except Exception:
            pass
        c.close(True)


def main(argv):
    if len(argv) < 4 or argv[1] != "--pipe":
        sys.stderr.write(__doc__ or "usage: lo-uno.py --pipe P COMMAND ...\n")
        return 2
    ctx = connect(argv[2])
    cmd, args = argv[3], argv[4:]
    if cmd == "make-doc" and len(args) == 2:
        make_doc(ctx, args[0], args[1])
    elif cmd == "open" and len(args) == 1:
        open_doc(ctx, args[0])
    elif cmd == "dispatch" and len(args) == 1:
        dispatch(ctx, args[0])
    elif cmd == "signatures" and len(args) == 1:
        if signatures(ctx, args[0]) == 0:
            print("no signature")
            return 1
    elif cmd == "ping" and not args:
        desktop_of(ctx)
    elif cmd == "close-all" and not args:
        close_all(ctx)
    elif cmd == "quit" and not args:
        try:
            desktop_of(ctx).terminate()
        except Exception:  # the bridge goes away with the office
            pass
    else:
        sys.stderr.write("lo-uno.py: bad command %r\n" % (argv[3:],))
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as e:  # noqa: BLE001 - print what UNO said, exit 1
        print("lo-uno.py: %s: %s" % (type(e).__name__, e))
        sys.exit(1)
