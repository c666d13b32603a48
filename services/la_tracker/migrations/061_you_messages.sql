-- Messages to young people, one row per message (a person, a round, a channel), paced to the sender's
-- limit (GOV.UK Notify: 3,000 messages a minute): queued by the scheduler, sent by priority (first
-- messages before reminders, oldest first), retried within minutes after a 429 or 5xx, failed for good
-- after a few tries. The row is the send's record: a message is claimed once ('sending' is committed
-- before the call) and queued in the transaction that advances the young person's schedule, so nothing
-- is sent twice. No address, words or link here (built at sending time).
create table you_messages (
    message_id      uuid primary key,          -- also Notify's `reference` (no personal data)
    person_key      text not null,
    case_id         uuid not null,
    round           integer not null,          -- 0: the first message; 1, 2, ...: reminders
    channel         text not null,             -- sms | email
    queued_at       timestamptz not null default clock_timestamp(),  -- the queue's order
    not_before      timestamptz not null,      -- the first try (the tick's time), then after each back-off
    attempts        integer not null default 0,
    status          text not null default 'waiting',      -- waiting | sending | sent | failed | cancelled
    outcome         text,                      -- the last refusal or why it stopped (no personal data)
    last_attempt_at timestamptz,
    sent_at         timestamptz
);
create index you_messages_person on you_messages (person_key);
-- The sender's queue in its order: first messages, then reminders; oldest first.
create index you_messages_queue on you_messages ((round > 0), queued_at, message_id) where status = 'waiting';
-- The budget: messages tried in the last minute (every replica's).
create index you_messages_tried on you_messages (last_attempt_at) where last_attempt_at is not null;
