-- Transactional outbox: rows written in the same transaction as the state change they announce.
create table outbox (
    id           bigserial primary key,
    event_id     uuid not null unique,
    topic        text not null,
    key          bytea not null,
    payload      bytea not null,
    headers      jsonb not null default '{}',
    created_at   timestamptz not null default now(),
    published_at timestamptz
);
create index outbox_unpublished on outbox (id) where published_at is null;

-- Wake the relay at commit (NOTIFY is delivered only when the inserting transaction commits).
create function outbox_notify() returns trigger language plpgsql as $$
begin
    perform pg_notify('outbox', '');
    return null;
end $$;
create trigger outbox_notify after insert on outbox for each statement execute function outbox_notify();

-- Idempotent consumer: one row per (consumer, event) written with the event's effect.
create table processed_events (
    consumer     text not null,
    event_id     uuid not null,
    processed_at timestamptz not null default now(),
    primary key (consumer, event_id)
);

-- Every read of personal data (who, when, what, which fields): UK GDPR subject access and accountability.
create table audit_log (
    id          bigserial primary key,
    at          timestamptz not null default now(),
    actor_sub   text not null,
    actor_role  text not null,
    action      text not null,
    object_type text not null,
    object_id   text not null,
    fields      text[] not null default '{}'
);
create index audit_log_object on audit_log (object_type, object_id);
