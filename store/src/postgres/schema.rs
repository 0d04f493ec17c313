//! The database's tables, created and migrated by the gateway in versioned steps, and
//! how a batch is written into them: the key-value rows of every space, and beside
//! them the dossiers as a queryable table, in the same transaction.

use super::super::{
    keys,
    rows::{DossierRow, dossier_row},
    tx::Overlay,
};

/// The schema, by version: each step runs once, in order, in one transaction.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE motcua_kv (k bytea PRIMARY KEY, v bytea NOT NULL)",
    "CREATE TABLE motcua_dossiers (
         code text PRIMARY KEY,
         status smallint NOT NULL,
         unit text NOT NULL,
         procedure text NOT NULL,
         received_at timestamptz NOT NULL,
         due_at timestamptz NOT NULL,
         overdue boolean NOT NULL
     );
     CREATE INDEX motcua_dossiers_status ON motcua_dossiers (status, due_at);
     CREATE INDEX motcua_dossiers_unit ON motcua_dossiers (unit, received_at);
     CREATE INDEX motcua_dossiers_due ON motcua_dossiers (due_at);
     CREATE INDEX motcua_dossiers_procedure ON motcua_dossiers (procedure, received_at)",
];

/// The version that created the dossiers table (filled from the stored records).
const DOSSIER_TABLE: usize = 2;

/// Brings the schema to the newest version; several nodes starting at once run each
/// step once (the table lock serializes them).
pub(super) fn migrate(client: &mut postgres::Client) -> Result<(), postgres::Error> {
    client.batch_execute("CREATE TABLE IF NOT EXISTS motcua_schema (version integer NOT NULL)")?;
    let mut tx = client.transaction()?;
    tx.batch_execute("LOCK TABLE motcua_schema IN EXCLUSIVE MODE")?;
    let version: i32 = tx.query_opt("SELECT version FROM motcua_schema", &[])?.map_or(0, |row| row.get(0));
    let from = usize::try_from(version).unwrap_or(0);
    for (i, step) in MIGRATIONS.iter().enumerate().skip(from) {
        tx.batch_execute(step)?;
        if i + 1 == DOSSIER_TABLE {
            fill_dossier_table(&mut tx)?;
        }
    }
    let newest = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
    if version == 0 {
        tx.execute("INSERT INTO motcua_schema (version) VALUES ($1)", &[&newest])?;
    } else if newest > version {
        tx.execute("UPDATE motcua_schema SET version = $1", &[&newest])?;
    }
    tx.commit()
}

/// Rows for the dossiers stored before the table existed.
fn fill_dossier_table(tx: &mut postgres::Transaction<'_>) -> Result<(), postgres::Error> {
    let every = keys::dossier_space();
    let (start, end) = (every.start, every.end);
    let mut rows = Vec::new();
    for row in tx.query("SELECT k, v FROM motcua_kv WHERE k >= $1 AND k < $2", &[&start, &end])? {
        let (key, value): (Vec<u8>, Vec<u8>) = (row.get(0), row.get(1));
        rows.extend(dossier_row(&key, &value));
    }
    upsert_dossiers(tx, &rows)
}

fn upsert_dossiers(tx: &mut impl postgres::GenericClient, rows: &[DossierRow]) -> Result<(), postgres::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let codes: Vec<&str> = rows.iter().map(|r| r.code.as_str()).collect();
    let statuses: Vec<i16> = rows.iter().map(|r| r.status).collect();
    let units: Vec<&str> = rows.iter().map(|r| r.unit.as_str()).collect();
    let procedures: Vec<&str> = rows.iter().map(|r| r.procedure.as_str()).collect();
    let received: Vec<f64> = rows.iter().map(|r| r.received_at).collect();
    let due: Vec<f64> = rows.iter().map(|r| r.due_at).collect();
    let overdue: Vec<bool> = rows.iter().map(|r| r.overdue).collect();
    tx.execute(
        "INSERT INTO motcua_dossiers (code, status, unit, procedure, received_at, due_at, overdue)
         SELECT c, s, u, p, to_timestamp(r), to_timestamp(d), o
         FROM unnest($1::text[], $2::int2[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::bool[])
              AS t(c, s, u, p, r, d, o)
         ON CONFLICT (code) DO UPDATE SET status = EXCLUDED.status, unit = EXCLUDED.unit,
              procedure = EXCLUDED.procedure, received_at = EXCLUDED.received_at,
              due_at = EXCLUDED.due_at, overdue = EXCLUDED.overdue",
        &[&codes, &statuses, &units, &procedures, &received, &due, &overdue],
    )?;
    Ok(())
}

/// Writes `batch` (and the dossier rows it implies) and sends `payloads` to the
/// nodes listening, inside the open transaction.
pub(super) fn write_batch(
    client: &mut postgres::Client,
    batch: &Overlay,
    payloads: &[String],
) -> Result<(), postgres::Error> {
    let (mut keys, mut values, mut removed) = (Vec::new(), Vec::new(), Vec::new());
    let (mut rows, mut gone) = (Vec::new(), Vec::new());
    for (key, value) in batch {
        let dossier = keys::is_dossier(key);
        match value {
            Some(value) => {
                keys.push(key.as_slice());
                values.push(value.as_slice());
                if dossier {
                    rows.extend(dossier_row(key, value));
                }
            }
            None => {
                removed.push(key.as_slice());
                if dossier {
                    gone.push(String::from_utf8_lossy(&key[1..]).into_owned());
                }
            }
        }
    }
    if !removed.is_empty() {
        client.execute("DELETE FROM motcua_kv WHERE k = ANY($1)", &[&removed])?;
    }
    if !gone.is_empty() {
        client.execute("DELETE FROM motcua_dossiers WHERE code = ANY($1)", &[&gone])?;
    }
    if !keys.is_empty() {
        client.execute(
            "INSERT INTO motcua_kv (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
             ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
            &[&keys, &values],
        )?;
    }
    upsert_dossiers(client, &rows)?;
    if !payloads.is_empty() {
        client.execute("SELECT pg_notify('motcua_notes', p) FROM unnest($1::text[]) AS p", &[&payloads])?;
    }
    Ok(())
}
