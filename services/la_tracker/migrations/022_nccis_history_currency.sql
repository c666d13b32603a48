-- The NCCIS return as at a period end (domain.md sections 3 and 6): what each young person's activity
-- and responsible LA were on any past date, the LA's currency table and return settings.

alter table young_people add column level_of_need smallint check (level_of_need between 1 and 3);  -- null: LA default
alter table young_people add column activity_predicted_end date;
alter table young_people add column merged_on date;   -- when merged_into was set (cohort status M that month)

-- Every recorded activity, kept: the return for a past period reads the row current on its period end.
create table activity_history (
    id             bigserial primary key,
    person_key     text not null references young_people on delete cascade,
    as_of          date not null,              -- the day it was recorded: a return as at a date reads rows up to it
    activity_code  text,
    activity_status text,                      -- confirmed | intended | lapsed | null (none known)
    ascertained    date,
    start_date     date,
    review_date    date,
    predicted_end  date
);
create index activity_history_person on activity_history (person_key, as_of, id);

-- Which LA was responsible from when: a move to another LA is a transfer (cohort status T) that month.
create table la_history (
    id         bigserial primary key,
    person_key text not null references young_people on delete cascade,
    la         text not null,
    from_date  date not null
);
create index la_history_person on la_history (person_key, from_date, id);
create index la_history_la on la_history (la, from_date);

-- Statement-level triggers with transition tables: one insert per statement, so the set-based
-- registration of a cohort (batch.py) stays a few statements.
create function history_on_insert() returns trigger language plpgsql as $$
begin
    insert into activity_history (person_key, as_of, activity_code, activity_status, ascertained, start_date,
                                  review_date, predicted_end)
        select person_key, current_date, activity_code, activity_status,
               activity_ascertained, activity_start, activity_review, activity_predicted_end from inserted;
    insert into la_history (person_key, la, from_date) select person_key, responsible_la, current_date from inserted;
    return null;
end $$;

create function history_on_update() returns trigger language plpgsql as $$
begin
    insert into activity_history (person_key, as_of, activity_code, activity_status, ascertained, start_date,
                                  review_date, predicted_end)
        select n.person_key, current_date, n.activity_code, n.activity_status,
               n.activity_ascertained, n.activity_start, n.activity_review, n.activity_predicted_end
        from new_rows n join old_rows o using (person_key)
        where (o.activity_code, o.activity_status, o.activity_ascertained, o.activity_start, o.activity_review,
               o.activity_predicted_end) is distinct from
              (n.activity_code, n.activity_status, n.activity_ascertained, n.activity_start, n.activity_review,
               n.activity_predicted_end);
    insert into la_history (person_key, la, from_date)
        select n.person_key, n.responsible_la, current_date from new_rows n join old_rows o using (person_key)
        where o.responsible_la is distinct from n.responsible_la;
    return null;
end $$;

create function merged_on_set() returns trigger language plpgsql as $$
begin
    new.merged_on := case when new.merged_into is null then null else current_date end;
    return new;
end $$;

-- A new activity starts without the previous one's predicted end date (staff give it with the activity).
create function predicted_end_reset() returns trigger language plpgsql as $$
begin
    new.activity_predicted_end := null;
    return new;
end $$;

create trigger young_people_history_insert after insert on young_people
    referencing new table as inserted for each statement execute function history_on_insert();
create trigger young_people_history_update after update on young_people
    referencing old table as old_rows new table as new_rows for each statement execute function history_on_update();
create trigger young_people_merged_on before update on young_people
    for each row when (old.merged_into is distinct from new.merged_into) execute function merged_on_set();
create trigger young_people_predicted_end_reset before update on young_people
    for each row when ((old.activity_code, old.activity_ascertained) is distinct from
                       (new.activity_code, new.activity_ascertained)
                       and old.activity_predicted_end is not distinct from new.activity_predicted_end)
    execute function predicted_end_reset();

-- Backfill what existing records hold today.
insert into activity_history (person_key, as_of, activity_code, activity_status, ascertained, start_date, review_date)
    select person_key, coalesce(activity_ascertained, updated_at::date), activity_code, activity_status,
           activity_ascertained, activity_start, activity_review from young_people;
insert into la_history (person_key, la, from_date) select person_key, responsible_la, updated_at::date from young_people;

-- An LA's NCCIS settings; a missing row means the defaults.
create table la_nccis_settings (
    la                    text primary key,
    level_of_need_default smallint not null default 1 check (level_of_need_default between 1 and 3),
    confirmation_due      text not null default '11-01' check (confirmation_due ~ '^[01][0-9]-[0-3][0-9]$'),
    updated_at            timestamptz not null default now()
);

-- An LA's currency table: per activity code, how long a recorded activity stays current (rule names in
-- services/la_tracker/currency.py); a code without a row uses the suppliers' default.
create table la_currency (
    la            text not null,
    activity_code text not null,
    rule          text not null,
    updated_at    timestamptz not null default now(),
    primary key (la, activity_code)
);
