/**
 * A real OTLP/HTTP trace receiver, as a collector would be: `POST /v1/traces` with an
 * ExportTraceServiceRequest in protobuf (`application/x-protobuf`, the default protocol) or
 * JSON (`http/json`), gzipped or not. It decodes the protobuf wire format itself (the few
 * fields of the trace protos a test looks at) and keeps every span it got, flattened.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export type AttributeValue = string | number | boolean;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span */
  parentSpanId: string;
  name: string;
  /** 1 internal, 2 server, 3 client */
  kind: number;
  attributes: Record<string, AttributeValue>;
  /** 0 unset, 1 ok, 2 error */
  statusCode: number;
  /** the exporting process's resource (service.name, service.instance.id…) */
  resource: Record<string, AttributeValue>;
  /** the instrumentation scope's name */
  scope: string;
  /** the spans this one links to (not its parent) */
  links: Array<{ traceId: string; spanId: string }>;
}

export interface OtlpReceiver {
  /** what OTEL_EXPORTER_OTLP_ENDPOINT is set to (the SDK appends /v1/traces) */
  url: string;
  spans: ReceivedSpan[];
  /** content types of the export requests, in order */
  contentTypes: string[];
  close(): Promise<void>;
}

/** Reads protobuf's wire format: each field of a message as its number, wire type and raw value. */
function* fields(buffer: Buffer): Generator<{ field: number; wire: number; value: Buffer | bigint }> {
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = buffer[at++];
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
    }
  };
  while (at < buffer.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) yield { field, wire, value: varint() };
    else if (wire === 1) yield { field, wire, value: buffer.subarray(at, (at += 8)) };
    else if (wire === 5) yield { field, wire, value: buffer.subarray(at, (at += 4)) };
    else if (wire === 2) {
      const length = Number(varint());
      yield { field, wire, value: buffer.subarray(at, (at += length)) };
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
}

const bytes = (value: Buffer | bigint) => value as Buffer;

/** opentelemetry.proto.common.v1.AnyValue (scalars only) */
function anyValue(buffer: Buffer): AttributeValue {
  for (const { field, value } of fields(buffer)) {
    if (field === 1) return bytes(value).toString('utf8');
    if (field === 2) return (value as bigint) !== 0n;
    if (field === 3) return Number(BigInt.asIntN(64, value as bigint));
    if (field === 4) return bytes(value).readDoubleLE(0);
  }
  return '';
}

/** a repeated opentelemetry.proto.common.v1.KeyValue, into `into` */
function keyValue(buffer: Buffer, into: Record<string, AttributeValue>): void {
  let key = '';
  let value: AttributeValue = '';
  for (const { field, value: raw } of fields(buffer)) {
    if (field === 1) key = bytes(raw).toString('utf8');
    if (field === 2) value = anyValue(bytes(raw));
  }
  into[key] = value;
}

function decodeProtobuf(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of fields(body)) {
    if (resourceSpans.field !== 1) continue;
    const resource: Record<string, AttributeValue> = {};
    const scopeSpans: Buffer[] = [];
    for (const { field, value } of fields(bytes(resourceSpans.value))) {
      if (field === 1) for (const attribute of fields(bytes(value))) if (attribute.field === 1) keyValue(bytes(attribute.value), resource);
      if (field === 2) scopeSpans.push(bytes(value));
    }
    for (const scoped of scopeSpans) {
      let scope = '';
      for (const { field, value } of fields(scoped)) {
        if (field === 1) for (const part of fields(bytes(value))) if (part.field === 1) scope = bytes(part.value).toString('utf8');
        if (field !== 2) continue;
        const span: ReceivedSpan = { traceId: '', spanId: '', parentSpanId: '', name: '', kind: 0, attributes: {}, statusCode: 0, resource, scope, links: [] };
        for (const part of fields(bytes(value))) {
          if (part.field === 1) span.traceId = bytes(part.value).toString('hex');
          if (part.field === 2) span.spanId = bytes(part.value).toString('hex');
          if (part.field === 4) span.parentSpanId = bytes(part.value).toString('hex');
          if (part.field === 5) span.name = bytes(part.value).toString('utf8');
          if (part.field === 6) span.kind = Number(part.value);
          if (part.field === 9) keyValue(bytes(part.value), span.attributes);
          if (part.field === 13) {
            const link = { traceId: '', spanId: '' };
            for (const linked of fields(bytes(part.value))) {
              if (linked.field === 1) link.traceId = bytes(linked.value).toString('hex');
              if (linked.field === 2) link.spanId = bytes(linked.value).toString('hex');
            }
            span.links.push(link);
          }
          if (part.field === 15) for (const status of fields(bytes(part.value))) if (status.field === 3) span.statusCode = Number(status.value);
        }
        spans.push(span);
      }
    }
  }
  return spans;
}

interface JsonAttribute {
  key: string;
  value: { stringValue?: string; boolValue?: boolean; intValue?: string | number; doubleValue?: number };
}

function jsonAttributes(list: JsonAttribute[] | undefined): Record<string, AttributeValue> {
  const into: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) into[key] = value.stringValue ?? value.boolValue ?? (value.intValue !== undefined ? Number(value.intValue) : value.doubleValue ?? '');
  return into;
}

function decodeJson(body: Buffer): ReceivedSpan[] {
  const request = JSON.parse(body.toString('utf8')) as {
    resourceSpans: Array<{
      resource?: { attributes?: JsonAttribute[] };
      scopeSpans: Array<{ scope?: { name?: string }; spans: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: JsonAttribute[]; status?: { code?: number }; links?: Array<{ traceId: string; spanId: string }> }> }>;
    }>;
  };
  return request.resourceSpans.flatMap((resourceSpans) => {
    const resource = jsonAttributes(resourceSpans.resource?.attributes);
    return resourceSpans.scopeSpans.flatMap((scoped) => scoped.spans.map((span) => ({
      traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId ?? '', name: span.name, kind: span.kind,
      attributes: jsonAttributes(span.attributes), statusCode: span.status?.code ?? 0, resource, scope: scoped.scope?.name ?? '',
      links: (span.links ?? []).map(({ traceId, spanId }) => ({ traceId, spanId })),
    })));
  });
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') return void res.writeHead(404).end();
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      const type = req.headers['content-type'] ?? '';
      contentTypes.push(type);
      const json = type.startsWith('application/json');
      spans.push(...(json ? decodeJson(body) : decodeProtobuf(body)));
      // An empty ExportTraceServiceResponse: full success.
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
