/**
 * docker-compose.yml cannot run here (no Docker engine), so this checks its shape: the
 * services, three replicas behind nginx with WebSocket upgrade, PgBouncer in front of the
 * primary and its standby, and the health checks. (nginx.test.ts and pgbouncer.test.ts run
 * the same deploy/ configs with the real binaries.)
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = new URL('../../../', import.meta.url);
const read = (file: string) => readFile(new URL(file, root), 'utf8');

describe('docker-compose.yml', async () => {
  const compose = parse(await read('docker-compose.yml'));
  const { postgres, redis, server, lb, pgbouncer } = compose.services;
  const replica = compose.services['postgres-replica'];

  it('should run PostgreSQL with a standby, PgBouncer, Redis, the server and a load balancer', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['lb', 'pgbouncer', 'postgres', 'postgres-replica', 'redis', 'server']);
    expect(postgres.image).toMatch(/^postgres:/);
    expect(redis.image).toMatch(/^redis:/);
    expect(lb.image).toMatch(/^nginx:/);
  });

  it('should run the server as 3 replicas on PostgreSQL and Redis, reachable only through the load balancer', () => {
    expect(server.deploy.replicas).toBe(3);
    expect(server.ports).toBeUndefined();
    expect(server.build).toBe('.');
    expect(new URL(server.environment.REDIS_URL).hostname).toBe('redis');
    expect(server.depends_on).toEqual({ pgbouncer: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    expect(lb.ports).toEqual(['${HTTP_PORT:-8080}:80']);
  });

  it('should pool through PgBouncer to the primary and the standby, with the session locks straight to the primary', async () => {
    const url = (name: string) => new URL(server.environment[name]);
    expect([url('DATABASE_URL').host, url('DATABASE_URL').pathname]).toEqual(['pgbouncer:6432', '/workflow']);
    expect([url('DATABASE_READ_URL').host, url('DATABASE_READ_URL').pathname]).toEqual(['pgbouncer:6432', '/workflow_read']);
    expect([url('DATABASE_DIRECT_URL').host, url('DATABASE_DIRECT_URL').pathname]).toEqual(['postgres:5432', '/workflow']);
    expect(pgbouncer.build).toBe('deploy/pgbouncer');
    const ini = await read('deploy/pgbouncer/pgbouncer.ini');
    expect(ini).toMatch(/^workflow = host=postgres port=5432 dbname=workflow$/m);
    expect(ini).toMatch(/^workflow_read = host=postgres-replica port=5432 dbname=workflow$/m);
    expect(ini).toMatch(/^pool_mode = transaction$/m);
    expect(ini).toMatch(/^listen_port = 6432$/m);
    // The userlist holds compose's own credentials.
    const { username, password } = url('DATABASE_URL');
    expect((await read('deploy/pgbouncer/userlist.txt')).trim()).toBe(`"${username}" "${password}"`);
    expect(postgres.environment.POSTGRES_USER).toBe(username);
    expect(postgres.environment.POSTGRES_PASSWORD).toBe(password);
  });

  it('should feed the standby by streaming replication from the primary', () => {
    expect(postgres.volumes).toContain('./deploy/postgres/primary-init.sh:/docker-entrypoint-initdb.d/primary-init.sh:ro');
    expect(replica.entrypoint).toEqual(['/replica-start.sh']);
    expect(replica.volumes).toContain('./deploy/postgres/replica-start.sh:/replica-start.sh:ro');
    expect(replica.environment.PRIMARY_HOST).toBe('postgres');
    expect(replica.environment.REPLICATION_PASSWORD).toBe(postgres.environment.REPLICATION_PASSWORD);
    expect(replica.depends_on.postgres.condition).toBe('service_healthy');
  });

  it('should check health on /api/health per replica and readiness on /api/ready at the entry point', () => {
    expect(server.healthcheck.test.join(' ')).toContain('http://127.0.0.1:4000/api/health');
    expect(lb.healthcheck.test.join(' ')).toContain('/api/ready');
    expect(lb.depends_on.server.condition).toBe('service_healthy');
    expect(postgres.healthcheck.test.join(' ')).toContain('pg_isready');
    expect(redis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it('should give replicas longer than the 10 s drain before Docker kills them', async () => {
    expect(Number.parseInt(server.stop_grace_period, 10)).toBeGreaterThan(10);
    expect(await read('Dockerfile')).toMatch(/STOPSIGNAL SIGTERM[\s\S]*CMD \[.*"dist\/server\/src\/main\.js"\]/);
  });

  it('should pass WebSocket upgrades through nginx to every replica, with no sticky sessions', async () => {
    expect(lb.volumes).toContain('./deploy/nginx.conf:/etc/nginx/nginx.conf:ro');
    const nginx = await read('deploy/nginx.conf');
    expect(nginx).toMatch(/upstream workflow_factory \{[^}]*server server:4000 resolve [^;]*;/);
    expect(nginx).toContain('proxy_pass http://workflow_factory;');
    expect(nginx).toContain('proxy_http_version 1.1;');
    expect(nginx).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(nginx).toContain('proxy_set_header Connection $connection_upgrade;');
    expect(nginx).not.toMatch(/^\s*(ip_hash|sticky|hash)\b/m);
  });
});
