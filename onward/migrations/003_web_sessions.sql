-- Page sessions, so that signing out ends a session on the server: a session cookie is honoured only
-- while its row is here (sign-out deletes it; expired rows are deleted at the next sign-in).
create table web_sessions (
    session_id  text primary key,
    sub         text not null,
    role        text not null,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null
);
create index web_sessions_expires_at on web_sessions (expires_at);
