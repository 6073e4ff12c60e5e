"""MnsService: MNS queues with visibility timeouts, delays, priorities and long polling.

Semantics only (no HTTP). Thread-safe; long polls wait on a condition (threads) or an
asyncio.Event (the HTTP layer), woken whenever a message is sent or made visible.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import (
    InvalidArgument,
    MessageNotExist,
    QueueAlreadyExist,
    QueueNotExist,
    ReceiptHandleError,
)
from .model import (
    Message,
    QueueAttributes,
    body_md5,
    check_queue_name,
    check_range,
    new_message_id,
    new_receipt_handle,
    now_ms,
    parse_receipt_handle,
)
from .store import MnsStore

MAX_BATCH = 16
MAX_WAIT_SECONDS = 30


@dataclass(frozen=True)
class QueueInfo:
    name: str
    attributes: QueueAttributes
    create_time: int  # seconds, as GetQueueAttributes answers
    last_modify_time: int
    active_messages: int
    inactive_messages: int
    delay_messages: int


@dataclass(frozen=True)
class SentMessage:
    message_id: str
    body_md5: str


class MnsService:
    def __init__(
        self,
        data_dir=".localcloud",
        region: str = "cn-hangzhou",
        account_id: str = "1234567890123456",
    ):
        self.region = region
        self.account_id = account_id
        self._store = MnsStore(Path(data_dir) / "mns.sqlite")
        self._changed = threading.Condition()
        self._async_waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._shutting_down = False
        self._counters: dict[str, collections.Counter] = {}
        self._counters_lock = threading.Lock()

    def begin_shutdown(self) -> None:
        """End every long poll now (answered as empty) so the listener can drain."""
        self._shutting_down = True
        self._wake_all()

    def close(self) -> None:
        self.begin_shutdown()
        self._store.close()

    # ------------------------------------------------------------------ queues
    def create_queue(self, name: str, attributes: QueueAttributes | None = None) -> bool:
        """True when created; False when it exists with the same attributes (MNS: 204)."""
        check_queue_name(name)
        attributes = attributes or QueueAttributes()
        with self._store.transaction() as db:
            existing = db.queue(name)
            if existing is not None:
                if existing[0] != attributes:
                    raise QueueAlreadyExist(name)
                return False
            now = int(time.time())
            db.put_queue(name, attributes, now, now)
        return True

    def set_queue_attributes(self, name: str, elements: dict[str, str]) -> QueueAttributes:
        with self._store.transaction() as db:
            attributes, created, _ = self._queue(db, name)
            attributes = QueueAttributes.from_elements(elements, attributes)
            db.put_queue(name, attributes, created, int(time.time()))
        self._notify(name)
        return attributes

    def get_queue(self, name: str) -> QueueInfo:
        with self._store.transaction() as db:
            attributes, created, modified = self._queue(db, name)
            now = now_ms()
            db.expire(name, now)
            active, inactive, delayed = db.counts(name, now)
        return QueueInfo(name, attributes, created, modified, active, inactive, delayed)

    def delete_queue(self, name: str) -> None:
        with self._store.transaction() as db:
            self._queue(db, name)
            db.delete_queue(name)
        self._notify(name)

    def list_queues(
        self, prefix: str = "", marker: str = "", limit: int = 1000
    ) -> tuple[list[str], str]:
        """Names after `marker`; the second value is the next marker or ''."""
        limit = check_range("x-mns-ret-number", limit, 1, 1000)
        with self._store.lock:
            names = self._store.queue_names(prefix or "", marker or "", limit + 1)
        if len(names) > limit:
            return names[:limit], names[limit - 1]
        return names, ""

    def _queue(self, db: MnsStore, name: str):
        found = db.queue(name)
        if found is None:
            raise QueueNotExist(name)
        return found

    # ---------------------------------------------------------------- messages
    def send_message(
        self, queue: str, body: str, delay_seconds: int | None = None, priority: int = 8
    ) -> str:
        """The flow engine's MNS:SendMessage: the body is stored as given; returns the id."""
        return self.send_messages(queue, [(body, delay_seconds, priority)])[0].message_id

    def send_messages(
        self, queue: str, messages: list[tuple[str, int | None, int | None]]
    ) -> list[SentMessage]:
        if not 1 <= len(messages) <= MAX_BATCH:
            raise InvalidArgument(f"a batch holds 1 to {MAX_BATCH} messages, got {len(messages)}")
        sent = []
        with self._store.transaction() as db:
            attributes, _, _ = self._queue(db, queue)
            now = now_ms()
            for body, delay, priority in messages:
                if not isinstance(body, str) or body == "":
                    raise InvalidArgument("MessageBody is required and must be a non-empty string")
                size = len(body.encode("utf-8"))
                if size > attributes.maximum_message_size:
                    raise InvalidArgument(
                        f"The value of MessageBody should between 1 and "
                        f"{attributes.maximum_message_size} bytes, got {size}"
                    )
                delay = (
                    attributes.delay_seconds
                    if delay is None
                    else check_range("DelaySeconds", delay, 0, 604800)
                )
                priority = 8 if priority is None else check_range("Priority", priority, 1, 16)
                message_id, md5 = new_message_id(), body_md5(body)
                db.add_message(
                    queue,
                    message_id,
                    body,
                    md5,
                    priority,
                    now,
                    now + delay * 1000,
                    now + attributes.message_retention_period * 1000,
                )
                sent.append(SentMessage(message_id, md5))
        self._count(queue, "sent", len(sent))
        self._notify(queue)
        return sent

    def receive(self, queue: str, count: int = 1) -> list[Message]:
        """Take up to `count` visible messages now (no waiting); each gets a new handle."""
        count = check_range("numOfMessages", count, 1, MAX_BATCH)
        received = []
        with self._store.transaction() as db:
            attributes, _, _ = self._queue(db, queue)
            now = now_ms()
            db.expire(queue, now)
            for message in db.visible(queue, now, count):
                handle = new_receipt_handle(message.seq)
                first = message.first_dequeue_time or now
                visible_at = now + attributes.visibility_timeout * 1000
                db.mark_received(message.seq, first, message.dequeue_count + 1, visible_at, handle)
                received.append(
                    Message(
                        message.seq,
                        message.message_id,
                        message.body,
                        message.body_md5,
                        message.priority,
                        message.enqueue_time,
                        first,
                        message.dequeue_count + 1,
                        visible_at,
                        handle,
                    )
                )
        if received:
            self._count(queue, "received", len(received))
            redelivered = sum(1 for m in received if m.dequeue_count > 1)
            if redelivered:
                self._count(queue, "redelivered", redelivered)
        return received

    def receive_message(
        self, queue: str, count: int = 1, wait_seconds: float | None = None
    ) -> list[Message]:
        """Blocking long poll for in-process callers; [] when nothing came in time."""
        deadline = time.monotonic() + self._wait_seconds(queue, wait_seconds)
        while True:
            with self._changed:
                messages = self.receive(queue, count)
                remaining = deadline - time.monotonic()
                if messages or remaining <= 0 or self._shutting_down:
                    return messages
                self._changed.wait(min(remaining, self._until_next_visible(queue)))

    async def receive_async(
        self, queue: str, count: int = 1, wait_seconds: float | None = None
    ) -> list[Message]:
        """Long poll without blocking the event loop: returns as soon as a message arrives."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_seconds(queue, wait_seconds)
        event = asyncio.Event()
        waiter = (loop, event)
        self._async_waiters.setdefault(queue, set()).add(waiter)
        try:
            while True:
                event.clear()
                messages = self.receive(queue, count)
                remaining = deadline - loop.time()
                if messages or remaining <= 0 or self._shutting_down:
                    return messages
                try:
                    await asyncio.wait_for(
                        event.wait(), min(remaining, self._until_next_visible(queue))
                    )
                except TimeoutError:
                    pass
        finally:
            waiters = self._async_waiters.get(queue)
            if waiters is not None:
                waiters.discard(waiter)

    def _wait_seconds(self, queue: str, wait_seconds) -> float:
        if wait_seconds is None or wait_seconds == -1:
            return self.get_queue(queue).attributes.polling_wait_seconds
        return check_range("waitseconds", wait_seconds, 0, MAX_WAIT_SECONDS)

    def _until_next_visible(self, queue: str) -> float:
        with self._store.lock:
            now = now_ms()
            at = self._store.next_visible_at(queue, now)
        # wake for delayed/invisible messages that become visible; poll at least each second
        return 1.0 if at is None else min(max((at - now) / 1000, 0.001), 1.0)

    def peek(self, queue: str, count: int = 1) -> list[Message]:
        count = check_range("numOfMessages", count, 1, MAX_BATCH)
        with self._store.transaction() as db:
            self._queue(db, queue)
            now = now_ms()
            db.expire(queue, now)
            return db.visible(queue, now, count)

    def delete_message(self, queue: str, receipt_handle: str) -> None:
        with self._store.transaction() as db:
            self._queue(db, queue)
            db.delete_message(self._owned(db, queue, receipt_handle).seq)
        self._count(queue, "deleted")

    def delete_messages(self, queue: str, handles: list[str]) -> list[tuple[str, Exception]]:
        """Delete each; returns (handle, error) for those that failed."""
        if not 1 <= len(handles) <= MAX_BATCH:
            raise InvalidArgument(f"a batch holds 1 to {MAX_BATCH} receipt handles")
        errors = []
        with self._store.transaction() as db:
            self._queue(db, queue)
            for handle in handles:
                try:
                    db.delete_message(self._owned(db, queue, handle).seq)
                except (ReceiptHandleError, MessageNotExist) as exc:
                    errors.append((handle, exc))
        self._count(queue, "deleted", len(handles) - len(errors))
        return errors

    def change_visibility(
        self, queue: str, receipt_handle: str, visibility_timeout: int
    ) -> tuple[str, int]:
        """New receipt handle and next visible time (ms); 0 makes it visible at once."""
        visibility_timeout = check_range("VisibilityTimeout", visibility_timeout, 0, 43200)
        with self._store.transaction() as db:
            self._queue(db, queue)
            message = self._owned(db, queue, receipt_handle)
            handle = new_receipt_handle(message.seq)
            visible_at = now_ms() + visibility_timeout * 1000
            db.mark_received(
                message.seq, message.first_dequeue_time, message.dequeue_count, visible_at, handle
            )
        self._notify(queue)
        return handle, visible_at

    def _owned(self, db: MnsStore, queue: str, handle: str) -> Message:
        """The message a handle still owns: it must be the latest handle, not yet expired."""
        seq = parse_receipt_handle(handle)
        message = db.message(queue, seq)
        if message is None:
            raise MessageNotExist(
                f"Message not exist: the message of receipt handle '{handle}' "
                "was deleted or expired"
            )
        if message.receipt_handle != handle or message.visible_at <= now_ms():
            # re-delivered with a newer handle, or its visibility timeout ran out
            raise ReceiptHandleError(handle, "has expired; receive the message again")
        return message

    # ---------------------------------------------------------------- counters
    def _count(self, queue: str, what: str, n: int = 1) -> None:
        with self._counters_lock:
            self._counters.setdefault(queue, collections.Counter())[what] += n

    def counters_snapshot(self) -> dict:
        """Per queue: sent, received, redelivered (DequeueCount > 1), deleted."""
        with self._counters_lock:
            return {"queues": {q: dict(c) for q, c in self._counters.items()}}

    def reset_counters(self) -> None:
        with self._counters_lock:
            self._counters.clear()

    # ---------------------------------------------------------------- wakeups
    def _notify(self, queue: str) -> None:
        with self._changed:
            self._changed.notify_all()
        for loop, event in list(self._async_waiters.get(queue, ())):
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop is closed
                pass

    def _wake_all(self) -> None:
        for queue in list(self._async_waiters):
            self._notify(queue)
