"""No overbooking, enforced by the database: `transport_leg.seats_taken` follows the bookings
that hold a seat (offered, confirmed, checked in, boarded) through triggers on
`transport_booking`, and the leg's check constraint `leg_no_overbooking` refuses the row
update that would give a seat that is not there — whoever writes the booking.

On PostgreSQL the trigger's UPDATE takes the leg's row lock: two transactions booking the
last seat of one leg queue there, and the second sees the first's count (READ COMMITTED
re-reads the row) and fails the check. SQLite writes one transaction at a time.
"""

from django.db import migrations

HOLDS = "('offered', 'confirmed', 'checked_in', 'boarded')"

SQLITE = [
    f"""CREATE TRIGGER transport_booking_seat_insert AFTER INSERT ON transport_booking
        WHEN NEW.status IN {HOLDS}
        BEGIN UPDATE transport_leg SET seats_taken = seats_taken + 1 WHERE id = NEW.leg_id; END""",
    f"""CREATE TRIGGER transport_booking_seat_delete AFTER DELETE ON transport_booking
        WHEN OLD.status IN {HOLDS}
        BEGIN UPDATE transport_leg SET seats_taken = seats_taken - 1 WHERE id = OLD.leg_id; END""",
    f"""CREATE TRIGGER transport_booking_seat_update AFTER UPDATE OF status, leg_id
        ON transport_booking
        WHEN (OLD.status IN {HOLDS}) != (NEW.status IN {HOLDS}) OR OLD.leg_id != NEW.leg_id
        BEGIN
          UPDATE transport_leg SET seats_taken = seats_taken - 1
           WHERE id = OLD.leg_id AND OLD.status IN {HOLDS};
          UPDATE transport_leg SET seats_taken = seats_taken + 1
           WHERE id = NEW.leg_id AND NEW.status IN {HOLDS};
        END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS transport_booking_seat_insert",
    "DROP TRIGGER IF EXISTS transport_booking_seat_delete",
    "DROP TRIGGER IF EXISTS transport_booking_seat_update",
]
POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION transport_booking_seat_count() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND OLD.leg_id = NEW.leg_id
             AND (OLD.status IN ('offered', 'confirmed', 'checked_in', 'boarded')) = (NEW.status IN ('offered', 'confirmed', 'checked_in', 'boarded')) THEN
            RETURN NULL;
          END IF;
          IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status IN {HOLDS} THEN
            UPDATE transport_leg SET seats_taken = seats_taken - 1 WHERE id = OLD.leg_id;
          END IF;
          IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status IN {HOLDS} THEN
            UPDATE transport_leg SET seats_taken = seats_taken + 1 WHERE id = NEW.leg_id;
          END IF;
          RETURN NULL;
        END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER transport_booking_seat_count
        AFTER INSERT OR DELETE OR UPDATE OF status, leg_id ON transport_booking
        FOR EACH ROW EXECUTE FUNCTION transport_booking_seat_count()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS transport_booking_seat_count ON transport_booking",
    "DROP FUNCTION IF EXISTS transport_booking_seat_count()",
]


def forwards(apps, schema_editor):
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    statements = {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}.get(
        schema_editor.connection.vendor, []
    )
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("transport", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
