"""Send queued e-mails in batches over one connection, each exactly once.

A batch claims its rows with a conditional update (QUEUED -> SENDING, stamped with the task id),
so two workers never hold the same e-mail. Each e-mail is marked SENT the moment the server
accepts it (or, with ``NOTIFICATIONS_EMAIL_MARK_EVERY`` = N above 1, N at a time: faster, but a
killed worker may then resend up to N); otherwise the only way one can go twice is a worker killed
between those two steps. A task
redelivered after its worker died has the same id and takes back its own claims. Errors are
classified: a permanent one (5xx, bad address) fails that e-mail with the error; a transient one
(connection, timeout, 4xx) puts the rest back in the queue and raises ``TransientEmailError`` so
the task retries with back-off; after ``MAX_ATTEMPTS`` a transient error fails the e-mail too.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import F, Q
from django.utils import timezone

from notifications.models import EmailDelivery

logger = logging.getLogger(__name__)
Status = EmailDelivery.Status
MAX_ATTEMPTS = 5


class TransientEmailError(Exception):
    """The mail server could not take the batch now; try again later."""


@dataclass
class BatchResult:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    requeued: list[int] = field(default_factory=list)


def is_permanent(exc: BaseException) -> bool:
    """True if retrying cannot help: the server refused this message or address for good."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return False  # our configuration, not the message: retry, an operator will see the errors
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    if isinstance(exc, smtplib.SMTPServerDisconnected | socket.timeout | ConnectionError | OSError):
        return False
    return isinstance(exc, ValueError | UnicodeError)


def _message(delivery: EmailDelivery, connection) -> EmailMultiAlternatives:
    headers = {"X-QI-Notification": str(delivery.notification_id)}
    if delivery.unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{delivery.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = EmailMultiAlternatives(
        subject=delivery.subject,
        body=delivery.text_body,
        to=[delivery.to],
        headers=headers,
        connection=connection,
    )
    if delivery.html_body:
        message.attach_alternative(delivery.html_body, "text/html")
    return message


def claim(delivery_ids: list[int], claimant: str) -> list[EmailDelivery]:
    """Take the queued e-mails (and this claimant's own unfinished ones) for sending."""
    now = timezone.now()
    EmailDelivery.objects.filter(pk__in=delivery_ids).filter(
        Q(status=Status.QUEUED) | Q(status=Status.SENDING, claimed_by=claimant)
    ).update(status=Status.SENDING, claimed_by=claimant, claimed_at=now, attempts=F("attempts") + 1)
    return list(
        EmailDelivery.objects.filter(pk__in=delivery_ids, status=Status.SENDING, claimed_by=claimant).order_by("pk")
    )


def _finish(delivery: EmailDelivery, claimant: str, **fields) -> None:
    EmailDelivery.objects.filter(pk=delivery.pk, claimed_by=claimant, status=Status.SENDING).update(**fields)


def _give_back(rows: list[EmailDelivery], claimant: str, error: str, result: BatchResult) -> None:
    """Return unsent rows to the queue, or fail those that have had all their attempts."""
    exhausted = [row.pk for row in rows if row.attempts >= MAX_ATTEMPTS]
    retry = [row.pk for row in rows if row.attempts < MAX_ATTEMPTS]
    mine = EmailDelivery.objects.filter(claimed_by=claimant, status=Status.SENDING)
    mine.filter(pk__in=exhausted).update(status=Status.FAILED, last_error=error[:2000])
    # claimed_at stays as the time of this attempt, so requeue_stalled leaves the retry to its task.
    mine.filter(pk__in=retry).update(status=Status.QUEUED, claimed_by="", last_error=error[:2000])
    result.failed += exhausted
    result.requeued += retry


def send_batch(delivery_ids: list[int], *, claimant: str) -> BatchResult:
    """Send these e-mails over one connection; raise TransientEmailError if some must wait."""
    result = BatchResult()
    rows = claim(delivery_ids, claimant)
    if not rows:
        return result
    interval = settings.NOTIFICATIONS_EMAIL_INTERVAL_MS / 1000
    mark_every = settings.NOTIFICATIONS_EMAIL_MARK_EVERY
    accepted: list[int] = []  # accepted by the server, not yet marked SENT

    def mark_sent() -> None:
        if accepted:
            EmailDelivery.objects.filter(pk__in=accepted, claimed_by=claimant, status=Status.SENDING).update(
                status=Status.SENT, sent_at=timezone.now(), last_error=""
            )
            result.sent.extend(accepted)
            accepted.clear()

    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as exc:
        _give_back(rows, claimant, f"Could not connect to the mail server: {exc!r}", result)
        raise TransientEmailError(str(exc)) from exc
    try:
        for position, row in enumerate(rows):
            try:
                connection.send_messages([_message(row, connection)])
            except Exception as exc:
                mark_sent()
                if is_permanent(exc):
                    logger.warning("E-mail %s to %s refused for good: %r", row.pk, row.to, exc)
                    _finish(row, claimant, status=Status.FAILED, last_error=repr(exc)[:2000])
                    result.failed.append(row.pk)
                    continue
                _give_back(rows[position:], claimant, repr(exc), result)
                raise TransientEmailError(str(exc)) from exc
            accepted.append(row.pk)
            if len(accepted) >= mark_every:
                mark_sent()
            if interval:
                time.sleep(interval)  # a trust's relay may limit our rate
    finally:
        mark_sent()  # also when a time limit interrupts the batch
        try:
            connection.close()
        except Exception:  # a dead connection cannot be closed politely; the batch is already settled
            logger.debug("Closing the mail connection failed", exc_info=True)
    return result
