/**
 * Versioned schema. A migration is appended, never edited: a store written by an older dirbridge is
 * brought forward in order, inside one transaction per version.
 */
export const migrations: { version: number; description: string; sql: string }[] = [
  {
    version: 1,
    description: 'connector spaces, metaverse, lineage, pending exports, watermarks, run history, change log',
    sql: `
CREATE TABLE run (
  id INTEGER PRIMARY KEY,
  profile TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  status TEXT NOT NULL DEFAULT 'in-progress'
);
CREATE TABLE run_step (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES run(id),
  seq INTEGER NOT NULL,
  agent TEXT NOT NULL,
  step_type TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  status TEXT NOT NULL DEFAULT 'in-progress',
  stats TEXT NOT NULL DEFAULT '{}',
  message TEXT
);
CREATE INDEX run_step_run ON run_step(run_id);
CREATE TABLE run_error (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES run(id),
  step_id INTEGER REFERENCES run_step(id),
  agent TEXT NOT NULL,
  severity TEXT NOT NULL,
  object TEXT NOT NULL,
  attribute TEXT,
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX run_error_run ON run_error(run_id);

CREATE TABLE mv_object (
  id INTEGER PRIMARY KEY,
  object_type TEXT NOT NULL,
  attributes TEXT NOT NULL,
  sources TEXT NOT NULL,
  created_run INTEGER REFERENCES run(id),
  updated_run INTEGER REFERENCES run(id),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX mv_object_type ON mv_object(object_type);
-- Lookup values (case-folded) of the attributes that joins and conflict checks search on.
CREATE TABLE mv_index (
  mv_id INTEGER NOT NULL REFERENCES mv_object(id) ON DELETE CASCADE,
  object_type TEXT NOT NULL,
  attribute TEXT NOT NULL,
  value TEXT NOT NULL
);
CREATE INDEX mv_index_lookup ON mv_index(attribute, value, object_type);
CREATE INDEX mv_index_owner ON mv_index(mv_id);

CREATE TABLE cs_object (
  id INTEGER PRIMARY KEY,
  agent TEXT NOT NULL,
  anchor TEXT,
  dn TEXT NOT NULL,
  dn_key TEXT NOT NULL,
  object_classes TEXT NOT NULL,
  attributes TEXT NOT NULL,
  -- 'add' | 'update' | 'delete' until a sync has processed the imported change
  pending_import TEXT,
  -- the import step that last saw the object; a full import deletes what it did not see
  seen_step INTEGER,
  -- 1 while a provisioned object waits for its export add (it has no anchor yet)
  provisioned INTEGER NOT NULL DEFAULT 0,
  -- 1 when dirbridge created the object (or it carries dirbridge's stamp): only then may it delete it
  owned INTEGER NOT NULL DEFAULT 0,
  mv_id INTEGER REFERENCES mv_object(id),
  link_kind TEXT,
  linked_run INTEGER REFERENCES run(id),
  linked_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX cs_object_anchor ON cs_object(agent, anchor) WHERE anchor IS NOT NULL;
CREATE INDEX cs_object_dn ON cs_object(agent, dn_key);
CREATE INDEX cs_object_mv ON cs_object(mv_id);
CREATE INDEX cs_object_pending ON cs_object(agent, pending_import) WHERE pending_import IS NOT NULL;
CREATE TABLE cs_index (
  cs_id INTEGER NOT NULL REFERENCES cs_object(id) ON DELETE CASCADE,
  agent TEXT NOT NULL,
  attribute TEXT NOT NULL,
  value TEXT NOT NULL
);
CREATE INDEX cs_index_lookup ON cs_index(agent, attribute, value);
CREATE INDEX cs_index_owner ON cs_index(cs_id);

-- Every link and unlink, kept after the objects are gone so an auditor can trace any contact.
CREATE TABLE lineage (
  id INTEGER PRIMARY KEY,
  run_id INTEGER REFERENCES run(id),
  agent TEXT NOT NULL,
  cs_id INTEGER NOT NULL,
  anchor TEXT,
  dn TEXT NOT NULL,
  mv_id INTEGER NOT NULL,
  event TEXT NOT NULL,
  owned INTEGER NOT NULL,
  detail TEXT,
  at TEXT NOT NULL
);
CREATE INDEX lineage_mv ON lineage(mv_id);
CREATE INDEX lineage_cs ON lineage(cs_id);

CREATE TABLE pending_export (
  cs_id INTEGER PRIMARY KEY REFERENCES cs_object(id) ON DELETE CASCADE,
  agent TEXT NOT NULL,
  operation TEXT NOT NULL,
  dn TEXT NOT NULL,
  new_dn TEXT,
  object_classes TEXT,
  attributes TEXT NOT NULL,
  created_run INTEGER REFERENCES run(id),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
);
CREATE INDEX pending_export_agent ON pending_export(agent);

CREATE TABLE watermark (
  agent TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  run_id INTEGER REFERENCES run(id),
  updated_at TEXT NOT NULL
);

CREATE TABLE change_log (
  id INTEGER PRIMARY KEY,
  run_id INTEGER REFERENCES run(id),
  step_id INTEGER REFERENCES run_step(id),
  space TEXT NOT NULL,
  agent TEXT,
  object_id INTEGER NOT NULL,
  object_ref TEXT NOT NULL,
  operation TEXT NOT NULL,
  before TEXT,
  after TEXT,
  at TEXT NOT NULL
);
CREATE INDEX change_log_object ON change_log(space, object_id);
CREATE INDEX change_log_run ON change_log(run_id);
`,
  },
  {
    version: 2,
    description: 'watermark provenance, export expectations for confirming imports',
    sql: `
ALTER TABLE watermark ADD COLUMN step_id INTEGER REFERENCES run_step(id);
-- What an export wrote, until an import of that agent confirms that the directory holds it.
CREATE TABLE export_expectation (
  cs_id INTEGER PRIMARY KEY REFERENCES cs_object(id) ON DELETE CASCADE,
  agent TEXT NOT NULL,
  dn TEXT NOT NULL,
  attributes TEXT NOT NULL,
  step_id INTEGER REFERENCES run_step(id),
  at TEXT NOT NULL
);
CREATE INDEX export_expectation_agent ON export_expectation(agent);
`,
  },
  {
    version: 3,
    description: 'deletions allowed by the operator for one run',
    sql: `ALTER TABLE run ADD COLUMN allowed_deletes INTEGER;`,
  },
  {
    version: 4,
    description: 'export intent: when an export was sent, until its result is recorded',
    sql: `ALTER TABLE pending_export ADD COLUMN sent_at TEXT;`,
  },
  {
    version: 5,
    description: 'address conflicts: reported once when found, kept until one side goes',
    sql: `
-- An MV object that gets no contact in an agent because its address also belongs to an object of
-- another type (a person being migrated). Removed when the conflict ends; the change log keeps both.
CREATE TABLE address_conflict (
  mv_id INTEGER NOT NULL REFERENCES mv_object(id) ON DELETE CASCADE,
  agent TEXT NOT NULL,
  mail TEXT NOT NULL,
  others TEXT NOT NULL,
  run_id INTEGER REFERENCES run(id),
  found_at TEXT NOT NULL,
  PRIMARY KEY (mv_id, agent)
);
`,
  },
  {
    version: 6,
    description: 'retention: find old change-log entries and errors without reading them all',
    sql: `
CREATE INDEX change_log_at ON change_log(at);
CREATE INDEX run_error_at ON run_error(at);
`,
  },
  {
    version: 7,
    description: 'the rules each run ran under, so status can tell when a full sync is due',
    sql: `ALTER TABLE run ADD COLUMN config_fingerprint TEXT;`,
  },
  {
    version: 8,
    description: 'the index plan the lookup index was built for (a rule change rebuilds it); anchorless objects indexed',
    sql: `
-- Settings of the store itself (not of a run). index_plan: the lookup keys cs_index and mv_index hold.
CREATE TABLE store_setting (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Objects without an anchor (adds whose anchor was not read back, provisioned objects): an import
-- asks whether an agent has any, and without this index the answer costs a scan of the agent.
CREATE INDEX cs_object_anchorless ON cs_object(agent) WHERE anchor IS NULL;
`,
  },
  {
    version: 9,
    description: 'the step that staged each pending export, when each agent was last checked for deletions, and its last complete full import',
    sql: `
-- A profile ends with the exports its synchronizations staged after its last export step of that
-- agent: the step that staged (or last replaced) a pending export says which those are.
ALTER TABLE pending_export ADD COLUMN staged_step INTEGER;
-- The deletion check of a delta import (a read of the anchors alone), per agent: its last run.
CREATE TABLE deletion_check (
  agent TEXT PRIMARY KEY,
  run_id INTEGER REFERENCES run(id),
  step_id INTEGER REFERENCES run_step(id),
  checked_at TEXT NOT NULL,
  seen INTEGER NOT NULL,
  gone INTEGER NOT NULL
);
-- The last full import of each agent that read its whole directory: nothing is provisioned into an
-- agent before its first (a hand-made object standing there could not be joined). Agents already
-- imported before this version (they have a watermark or objects) count as imported.
CREATE TABLE full_import (
  agent TEXT PRIMARY KEY,
  run_id INTEGER REFERENCES run(id),
  step_id INTEGER REFERENCES run_step(id),
  finished_at TEXT NOT NULL,
  seen INTEGER NOT NULL
);
INSERT INTO full_import (agent, run_id, step_id, finished_at, seen) SELECT agent, run_id, step_id, updated_at, 0 FROM watermark;
INSERT OR IGNORE INTO full_import (agent, run_id, step_id, finished_at, seen) SELECT DISTINCT agent, NULL, NULL, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 0 FROM cs_object;
`,
  },
  {
    version: 10,
    description: 'who started each run; deleted metaverse objects stay findable; lineage searchable by DN and anchor; explicit disconnectors',
    sql: `
-- Who or what started a run (JSON: trigger, user, host, pid, command or schedule).
ALTER TABLE run ADD COLUMN started_by TEXT;
-- What a finished run changed, by change-log operation (JSON), counted once when it ends.
ALTER TABLE run ADD COLUMN change_counts TEXT;
-- The last image of each deleted metaverse object, so an auditor finds it by id, mail, DN or anchor
-- (the DN and anchor through the lineage). Its id is never given to a new object.
CREATE TABLE mv_tombstone (
  mv_id INTEGER PRIMARY KEY,
  object_type TEXT NOT NULL,
  attributes TEXT NOT NULL,
  mail TEXT,
  reason TEXT,
  run_id INTEGER REFERENCES run(id),
  deleted_at TEXT NOT NULL
);
CREATE INDEX mv_tombstone_mail ON mv_tombstone(mail);
CREATE INDEX lineage_anchor ON lineage(anchor);
CREATE INDEX lineage_dn ON lineage(lower(dn));
CREATE INDEX change_log_agent ON change_log(agent, id);
-- An object an operator disconnected by hand (MIM's explicit disconnector): no join rule takes it
-- again, and no rule deletes it, until an operator joins it by hand.
ALTER TABLE cs_object ADD COLUMN explicit_disconnect INTEGER NOT NULL DEFAULT 0;
INSERT OR REPLACE INTO mv_tombstone (mv_id, object_type, attributes, mail, reason, run_id, deleted_at)
  SELECT c.object_id, c.object_ref, c.before, lower(json_extract(c.before, '$.mail[0]')), json_extract(c.after, '$.reason'), c.run_id, c.at
  FROM change_log c WHERE c.space = 'mv' AND c.operation = 'mv-delete' AND c.before IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM mv_object m WHERE m.id = c.object_id) ORDER BY c.id;
`,
  },
  {
    version: 11,
    description: 'moves of people from Domino to Exchange (migrations), with the X500 addresses carried',
    sql: `
-- One row per move: a person's Domino document now stands for their Exchange mailbox; their contact
-- went, and its X500 addresses were carried to the mailbox. x500_written: they were staged for the
-- mailbox (migration.writeX500), and this row is dirbridge's record of having put them there.
CREATE TABLE person_move (
  id INTEGER PRIMARY KEY,
  run_id INTEGER REFERENCES run(id),
  at TEXT NOT NULL,
  person_mv INTEGER,
  person_label TEXT NOT NULL,
  doc_agent TEXT NOT NULL,
  doc_cs INTEGER NOT NULL,
  doc_dn TEXT NOT NULL,
  doc_anchor TEXT,
  mailbox_mv INTEGER NOT NULL,
  mailbox_label TEXT NOT NULL,
  mailbox_agent TEXT,
  mailbox_cs INTEGER,
  contacts TEXT NOT NULL,
  x500 TEXT NOT NULL,
  x500_written INTEGER NOT NULL
);
CREATE INDEX person_move_person ON person_move(person_mv);
CREATE INDEX person_move_mailbox ON person_move(mailbox_mv);
CREATE INDEX person_move_run ON person_move(run_id);
`,
  },
  {
    version: 12,
    description: 'references (group members) that could not be resolved, reported once and kept for auditors',
    sql: `
-- A member of a group dirbridge could not resolve: on import, a DN that names no synchronized object;
-- on export, a member with no object in the target. Reported when found, kept while it stays so.
CREATE TABLE unresolved_reference (
  cs_id INTEGER NOT NULL REFERENCES cs_object(id) ON DELETE CASCADE,
  attribute TEXT NOT NULL,
  value TEXT NOT NULL,
  value_key TEXT NOT NULL,
  label TEXT NOT NULL,
  reason TEXT NOT NULL,
  run_id INTEGER REFERENCES run(id),
  found_at TEXT NOT NULL,
  PRIMARY KEY (cs_id, attribute, value_key)
);
CREATE INDEX unresolved_reference_value ON unresolved_reference(value_key);
`,
  },
];
