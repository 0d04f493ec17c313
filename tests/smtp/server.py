"""A real SMTP server for the end-to-end tests (aiosmtpd): STARTTLS required before
anything else, AUTH required after it with one account, every message kept as a file
<n>.eml (with X-Envelope-From/To headers) in the directory given.

    python3 server.py PORT CERT KEY USER PASSWORD DIR
"""

import asyncio
import itertools
import os
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, cert, key, user, password, out = sys.argv[1:7]
counter = itertools.count(1)


class Keep:
    async def handle_DATA(self, server, session, envelope):
        n = next(counter)
        head = f"X-Envelope-From: {envelope.mail_from}\r\nX-Envelope-To: {','.join(envelope.rcpt_tos)}\r\n"
        path = os.path.join(out, f"{n:04}.eml")
        with open(path + ".part", "wb") as f:
            f.write(head.encode() + envelope.original_content)
        os.rename(path + ".part", path)
        return "250 OK queued"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
    return AuthResult(success=ok)


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
controller = Controller(
    Keep(),
    hostname="127.0.0.1",
    port=int(port),
    tls_context=context,
    require_starttls=True,
    authenticator=authenticate,
    auth_required=True,
    auth_require_tls=True,
)
controller.start()
print("ready", flush=True)
try:
    asyncio.get_event_loop().run_forever()
finally:
    controller.stop()
