-- Identity (domain.md 5.8, revised): gender can confirm a match; a report whose UPN is held with other
-- names or DOB changes nothing and waits for staff with what it said (`report`, personal data, erased
-- with the person); a staff merge can be undone (split).
alter table young_people add column gender text;
create index young_people_dob_family_given on young_people (dob, family_norm, given_norm);
alter table review_queue alter column candidate_key drop not null;
alter table review_queue add column report jsonb;
alter table review_queue add column merge_record jsonb;   -- what a merge closed, so that a split can undo it
-- status: open | merged | kept_apart | split | closed_cross_la
