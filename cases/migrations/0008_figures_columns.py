# What the absence figures (reports/figures.py) read of a case, stored where they read it, so a
# year's figures for a whole tenant read neither the (wide) cases nor a window function over every
# incapacity change of the tenant's cases:
# - each sick spell (AbsencePeriod) carries its case's `employee_id` and `case_type`;
# - each incapacity change carries the days it applies within its case: `applies_from` its own
#   day (the case's first change: also the days before it, from the first sick day), and
#   `applies_until` the day before the next change of the case, else the day before the
#   recovery, NULL while the case is open. A case spans its spells (first sick day up to the day
#   before the recovery), so bounding the changes by the case changes no figure; it lets an index
#   find the changes that matter for a period (an index on the span, as `[)`: a change that
#   applies on no day has an empty span, applies_until = applies_from - 1).
# Two covering GiST indexes on the days of the spells and of the changes (the first replacing
# absenceperiod_days) let the figures read a period's rows from the indexes alone.
# The columns are the database's own, like Employee.has_absence_case: no model field (the
# application never writes them, so a stale instance cannot overwrite them), kept by triggers on
# every write however it is made (ORM, bulk_create, SQL), and filled in here for existing rows.
from django.db import migrations

SQL = """
ALTER TABLE cases_absenceperiod ADD COLUMN employee_id bigint, ADD COLUMN case_type varchar(20);
-- Filled in before the triggers exist (no other transaction writes the table meanwhile: the
-- ALTER TABLE holds it until the migration commits).
UPDATE cases_absenceperiod p SET employee_id = c.employee_id, case_type = c.case_type
  FROM cases_absencecase c WHERE c.id = p.case_id;
ALTER TABLE cases_absenceperiod ALTER COLUMN employee_id SET NOT NULL,
                                ALTER COLUMN case_type SET NOT NULL;

-- A spell takes its case's employee and type whenever it is written. FOR SHARE: a concurrent
-- change of the case's employee or type is waited for, and its newest version read.
CREATE FUNCTION cases_spell_takes_case_facts() RETURNS trigger AS $$
BEGIN
    SELECT c.employee_id, c.case_type INTO NEW.employee_id, NEW.case_type
      FROM cases_absencecase c WHERE c.id = NEW.case_id FOR SHARE;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER absenceperiod_case_facts BEFORE INSERT OR UPDATE ON cases_absenceperiod
FOR EACH ROW EXECUTE FUNCTION cases_spell_takes_case_facts();

-- A case's new employee or type goes to its spells (whose own trigger reads it from the case).
CREATE FUNCTION cases_case_facts_to_spells() RETURNS trigger AS $$
BEGIN
    UPDATE cases_absenceperiod SET employee_id = NEW.employee_id, case_type = NEW.case_type
     WHERE case_id = NEW.id
       AND (employee_id, case_type) IS DISTINCT FROM (NEW.employee_id, NEW.case_type);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER absencecase_facts_to_spells AFTER UPDATE OF employee_id, case_type
ON cases_absencecase
FOR EACH ROW WHEN ((OLD.employee_id, OLD.case_type) IS DISTINCT FROM (NEW.employee_id, NEW.case_type))
EXECUTE FUNCTION cases_case_facts_to_spells();

ALTER TABLE cases_incapacitychange ADD COLUMN applies_from date, ADD COLUMN applies_until date;

-- Recompute the days each change of these cases applies; only rows that change are written.
CREATE FUNCTION cases_refresh_incapacity_spans(case_ids bigint[]) RETURNS void AS $$
BEGIN
    IF cardinality(case_ids) = 0 THEN
        RETURN;  -- also ends the triggers' recursion through the UPDATE below
    END IF;
    -- Changes of one case written in two transactions at once: the second waits here for the
    -- first to commit, then (a new snapshot per statement) sees both.
    PERFORM 1 FROM cases_absencecase WHERE id = ANY(case_ids) ORDER BY id FOR NO KEY UPDATE;
    UPDATE cases_incapacitychange t
       SET applies_from = s.applies_from, applies_until = s.applies_until
      FROM (SELECT id, applies_from,
                   -- A change after the recovery (or the first of two on one day) applies on no
                   -- day: an empty span, never one ending before it starts. (GREATEST would
                   -- skip NULL: an open case's last change stays open.)
                   CASE WHEN applies_until IS NOT NULL
                        THEN GREATEST(applies_until, applies_from - 1) END AS applies_until
              FROM (SELECT ic.id,
                           CASE WHEN lag(ic.starts_on) OVER w IS NULL
                                THEN LEAST(ic.starts_on, c.first_sick_day)
                                ELSE ic.starts_on END AS applies_from,
                           COALESCE(lead(ic.starts_on) OVER w, c.recovered_on) - 1
                               AS applies_until
                      FROM cases_incapacitychange ic
                      JOIN cases_absencecase c ON c.id = ic.case_id
                     WHERE ic.case_id = ANY(case_ids)
                    WINDOW w AS (PARTITION BY ic.case_id ORDER BY ic.starts_on, ic.id)) r) s
     WHERE t.id = s.id
       AND (t.applies_from, t.applies_until) IS DISTINCT FROM (s.applies_from, s.applies_until);
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION cases_keep_incapacity_spans() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM cases_refresh_incapacity_spans(ARRAY(SELECT DISTINCT case_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM cases_refresh_incapacity_spans(ARRAY(SELECT DISTINCT case_id FROM old_rows));
    ELSE
        -- Only a changed case or day moves a span (not the percentage, nor the spans the
        -- refresh itself writes).
        PERFORM cases_refresh_incapacity_spans(ARRAY(
            SELECT o.case_id FROM old_rows o JOIN new_rows n ON n.id = o.id
             WHERE (o.case_id, o.starts_on) IS DISTINCT FROM (n.case_id, n.starts_on)
            UNION
            SELECT n.case_id FROM old_rows o JOIN new_rows n ON n.id = o.id
             WHERE (o.case_id, o.starts_on) IS DISTINCT FROM (n.case_id, n.starts_on)
        ));
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER incapacitychange_spans_insert AFTER INSERT ON cases_incapacitychange
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION cases_keep_incapacity_spans();

CREATE TRIGGER incapacitychange_spans_update AFTER UPDATE ON cases_incapacitychange
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION cases_keep_incapacity_spans();

CREATE TRIGGER incapacitychange_spans_delete AFTER DELETE ON cases_incapacitychange
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION cases_keep_incapacity_spans();

-- The case's first sick day and recovery bound its first and last change.
CREATE FUNCTION cases_case_dates_to_incapacity() RETURNS trigger AS $$
BEGIN
    PERFORM cases_refresh_incapacity_spans(ARRAY(
        SELECT n.id FROM old_rows o JOIN new_rows n ON n.id = o.id
         WHERE (o.first_sick_day, o.recovered_on) IS DISTINCT FROM (n.first_sick_day, n.recovered_on)
    ));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER absencecase_dates_to_incapacity AFTER UPDATE ON cases_absencecase
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION cases_case_dates_to_incapacity();

-- applies_from stays nullable: a row is inserted without it and given it by the statement's
-- trigger.
SELECT cases_refresh_incapacity_spans(ARRAY(SELECT DISTINCT case_id FROM cases_incapacitychange));

-- The figures find a period's spells and the incapacity changes applying in it by their days,
-- and read all they need of them from these indexes (index-only scans: not the tables' pages,
-- which hold the rows of all years).
CREATE INDEX absenceperiod_days_covering ON cases_absenceperiod
 USING gist (daterange(starts_on, ends_on, '[]'))
 INCLUDE (tenant_id, case_id, employee_id, case_type, starts_on, ends_on);
CREATE INDEX incapacitychange_days_covering ON cases_incapacitychange
 USING gist (daterange(applies_from, applies_until + 1))
 INCLUDE (tenant_id, case_id, applies_from, applies_until, percentage);
"""

REVERSE_SQL = """
DROP INDEX IF EXISTS incapacitychange_days_covering;
DROP INDEX IF EXISTS absenceperiod_days_covering;
DROP TRIGGER IF EXISTS absencecase_dates_to_incapacity ON cases_absencecase;
DROP FUNCTION IF EXISTS cases_case_dates_to_incapacity();
DROP TRIGGER IF EXISTS incapacitychange_spans_delete ON cases_incapacitychange;
DROP TRIGGER IF EXISTS incapacitychange_spans_update ON cases_incapacitychange;
DROP TRIGGER IF EXISTS incapacitychange_spans_insert ON cases_incapacitychange;
DROP FUNCTION IF EXISTS cases_keep_incapacity_spans();
DROP FUNCTION IF EXISTS cases_refresh_incapacity_spans(bigint[]);
ALTER TABLE cases_incapacitychange DROP COLUMN IF EXISTS applies_until,
                                   DROP COLUMN IF EXISTS applies_from;
DROP TRIGGER IF EXISTS absencecase_facts_to_spells ON cases_absencecase;
DROP FUNCTION IF EXISTS cases_case_facts_to_spells();
DROP TRIGGER IF EXISTS absenceperiod_case_facts ON cases_absenceperiod;
DROP FUNCTION IF EXISTS cases_spell_takes_case_facts();
ALTER TABLE cases_absenceperiod DROP COLUMN IF EXISTS case_type,
                                DROP COLUMN IF EXISTS employee_id;
"""


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_has_absence_case_trigger_set_based")]

    operations = [
        # Replaced by a covering index on the same days (below, in SQL: it covers the columns the
        # database keeps, which are no model fields).
        migrations.RemoveIndex(model_name="absenceperiod", name="absenceperiod_days"),
        migrations.RunSQL(SQL, REVERSE_SQL),
    ]
