"""The aiosmtpd test server of authgate_mail::testing::SmtpTestServer.

Usage: python smtp_server.py HOST PORT MAILDIR MODE, MODE one of none, starttls, smtps.
TLS reads the certificate chain and key from SMTP_TEST_CERT and SMTP_TEST_KEY; with
SMTP_TEST_USER and SMTP_TEST_PASSWORD set, AUTH is required and accepts only that pair
(after STARTTLS in starttls mode). Mail goes to a Maildir. The server exits as soon as its
stdin closes: the test process holds the other end of that pipe, so the server cannot outlive
it, even after a crash or `kill -9`.
"""

import asyncio
import os
import ssl
import sys
import threading

from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user
            and auth_data.password == password
        )
        # handled=False: aiosmtpd itself answers a failure with 535.
        return AuthResult(success=ok, handled=False)

    return check


def smtp_options(mode, context):
    options = {}
    if mode == "starttls":
        options.update(tls_context=context, require_starttls=True)
    user = os.environ.get("SMTP_TEST_USER")
    if user:
        password = os.environ["SMTP_TEST_PASSWORD"]
        options.update(
            authenticator=authenticator(user.encode(), password.encode()),
            auth_required=True,
            # With implicit TLS the whole connection is already encrypted.
            auth_require_tls=(mode == "starttls"),
        )
    return options


def main():
    host, port, maildir, mode = sys.argv[1:5]
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    context = None
    if mode != "none":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(os.environ["SMTP_TEST_CERT"], os.environ["SMTP_TEST_KEY"])
    options = smtp_options(mode, context)
    handler = Mailbox(maildir)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(
            lambda: SMTP(handler, loop=loop, **options),
            host=host,
            port=int(port),
            ssl=context if mode == "smtps" else None,
        )
    )
    try:
        loop.run_forever()
    finally:
        server.close()


main()
