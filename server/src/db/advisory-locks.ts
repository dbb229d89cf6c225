/**
 * Every PostgreSQL advisory lock the server takes, in one place so no two jobs share one by
 * accident (the alert evaluator and audit retention once did: whichever held it kept the other
 * from running). Session locks (`leadership`, the migration lock) need DATABASE_DIRECT_URL
 * behind PgBouncer; transaction locks (`pg_try_advisory_xact_lock`) do not.
 */
export const ADVISORY_LOCKS = {
  migrations: 7_316_000,
  eventOrder: 7_316_001,
  eventPrune: 7_316_002,
  metricRetention: 7_316_040,
  alertEvaluator: 7_316_041,
  metricRollups: 7_316_042,
  slowQuerySnapshots: 7_316_043,
  taskExpiry: 7_316_044,
  auditRetention: 7_316_045,
  notificationDispatch: 7_316_046,
} as const;
