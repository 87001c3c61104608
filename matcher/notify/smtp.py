"""E-mail through any SMTP server, named by URL: smtp://host:port (plain), smtps://user:pass@host
(TLS from the start, port 465), smtp+starttls://user:pass@host (upgrade, port 587). Query
options: from=ADDRESS, timeout=SECONDS, cafile=PATH (a CA bundle for a private server)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from matcher.errors import DeliveryError, ValidationError
from matcher.notify.base import Message, redact

DEFAULT_PORTS = {"smtp": 25, "smtps": 465, "smtp+starttls": 587}
_QUERY_KEYS = {"from", "timeout", "cafile"}


def _address(value: str, what: str) -> str:
    _, addr = parseaddr(value)
    if not addr or "@" not in addr or addr != value.strip():
        raise ValidationError(f"{value!r} is not an e-mail address", field=what)
    return addr


class SmtpNotifier:
    """One SMTP connection per message: simple, and nothing is held open between runs."""

    kind = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        mode: str = "smtp",
        username: str | None = None,
        password: str | None = None,
        sender: str = "partner-matcher@localhost",
        timeout: float = 10.0,
        cafile: str | None = None,
    ):
        if mode not in DEFAULT_PORTS:
            raise ValidationError(f"unknown SMTP mode {mode!r}; use one of {sorted(DEFAULT_PORTS)}")
        self.host, self.port, self.mode = host, port, mode
        self.username, self.password = username, password
        self.sender = _address(sender, "from")
        self.timeout = timeout
        self.cafile = cafile

    @classmethod
    def from_url(
        cls, url: str, *, sender: str = "partner-matcher@localhost", timeout: float = 10.0
    ) -> SmtpNotifier:
        parts = urlsplit(url)
        mode = parts.scheme.lower()
        if mode not in DEFAULT_PORTS:
            raise ValidationError(f"{redact(url)}: scheme must be smtp, smtps or smtp+starttls")
        try:
            port = parts.port or DEFAULT_PORTS[mode]
        except ValueError as exc:
            raise ValidationError(f"{redact(url)}: bad port ({exc})", field="notify_url") from None
        if not parts.hostname:
            raise ValidationError(f"{redact(url)}: no host", field="notify_url")
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        unknown = set(query) - _QUERY_KEYS
        if unknown:
            raise ValidationError(
                f"{redact(url)}: unknown option(s) {sorted(unknown)}; known: {sorted(_QUERY_KEYS)}",
                field="notify_url",
            )
        try:
            timeout = float(query.get("timeout", timeout))
        except ValueError:
            raise ValidationError(f"{redact(url)}: timeout must be a number") from None
        return cls(
            parts.hostname,
            port,
            mode=mode,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=query.get("from", sender),
            timeout=timeout,
            cafile=query.get("cafile"),
        )

    def email(self, message: Message) -> EmailMessage:
        """The e-mail as sent; its Message-ID derives from the key, so a receiver that keeps
        Message-IDs drops a copy sent again after a crash (see matcher.notify.dispatcher)."""
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = message.recipient
        msg["Subject"] = message.subject
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        domain = self.sender.rsplit("@", 1)[1]
        msg["Message-ID"] = f"<{message.key_digest()[:40]}@{domain}>"
        msg["X-Matcher-Notification-Key"] = message.key
        msg.set_content(message.body)
        return msg

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context(cafile=self.cafile)
        smtp: smtplib.SMTP
        if self.mode == "smtps":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.mode == "smtp+starttls":
                smtp.starttls(context=context)
        if self.username:
            smtp.login(self.username, self.password or "")
        return smtp

    def send(self, message: Message) -> None:
        try:
            recipient = _address(message.recipient, "recipient")
        except ValidationError as exc:
            raise DeliveryError(str(exc)) from None
        email = self.email(message)
        where = f"SMTP {self.host}:{self.port}"
        try:
            with self._connect() as smtp:
                smtp.send_message(email, from_addr=self.sender, to_addrs=[recipient])
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
            raise DeliveryError(
                f"{where} refused the message to {recipient}: {exc}", permanent=_permanent(exc)
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:  # connection, TLS, auth, disconnect
            raise DeliveryError(f"{where}: {type(exc).__name__}: {exc}", transport=True) from exc

    def close(self) -> None:
        """Nothing is held open between messages."""

    def __repr__(self) -> str:
        user = f"{self.username}@" if self.username else ""
        return f"SmtpNotifier({self.mode}://{user}{self.host}:{self.port})"


def _permanent(exc: smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError) -> bool:
    """A 5xx reply is permanent (RFC 5321 4.2.1: do not repeat the same request); 4xx is not."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
    else:
        codes = [exc.smtp_code]
    return bool(codes) and all(500 <= int(c) < 600 for c in codes)
