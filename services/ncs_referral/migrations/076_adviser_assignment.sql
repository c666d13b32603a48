-- Referrals assigned to a named adviser of the area (issue 16), as the LA assigns cases.
alter table referrals add column assigned_to text;      -- adviser's sub
alter table referrals add column assigned_name text;    -- their name at assignment
create index referrals_assigned on referrals (ncs_area, assigned_to) where assigned_to is not null;

-- Advisers seen signing in or acting, so a referral can be assigned to a named adviser of their area
-- (a few thousand at most in England: no index beyond the key).
create table advisers (
    sub       text primary key,
    ncs_area  text not null,
    name      text not null,
    seen_at   timestamptz not null default now()
);
