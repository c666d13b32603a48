-- Policy changes record the role the token stated (la_manager, admin), not the scoping role la_staff.
alter table policy_changes add column changed_by_role text;

-- A big LA's work list (issue 16: 20,000 open cases): open cases per LA in the list's default order
-- (worklist.WORKLIST_ORDER, then case_id), so a page and the count are read from this index. It replaces
-- cases_open_worklist, whose order ((returned_at is not null) desc, ..., opened_at) no query used.
create index cases_open_worklist_order on cases (responsible_la, (returned_at is null), priority, case_id)
    where status not in ('closed', 'transferred');
drop index if exists cases_open_worklist;
