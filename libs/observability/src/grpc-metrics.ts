// gRPC interceptors that count calls by method and status code and time
// them. They plug into @membrane/rpc without changes to it:
//   createRpcServer({ serverOptions: { interceptors: [grpcServerMetricsInterceptor(registry)] } })
//   createRpcClient(Client, address, { channelOptions: { interceptors: [grpcClientMetricsInterceptor(registry)] } })
import * as grpc from '@grpc/grpc-js';
import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS } from './http-metrics.js';
import { metricOf } from './registry.js';

type Side = 'client' | 'server';

interface GrpcMetrics {
  readonly calls: Counter<'method' | 'code'>;
  readonly duration: Histogram<'method' | 'code'>;
}

function grpcMetrics(registry: Registry, side: Side): GrpcMetrics {
  const labelNames = ['method', 'code'] as const;
  const callsName = `grpc_${side}_calls_total`;
  const durationName = `grpc_${side}_call_duration_seconds`;
  const who = side === 'client' ? 'made' : 'served';
  return {
    calls: metricOf(
      registry,
      callsName,
      () => new Counter({ name: callsName, help: `gRPC calls ${who}, by method and status code`, labelNames, registers: [registry] }),
    ),
    duration: metricOf(
      registry,
      durationName,
      () =>
        new Histogram({
          name: durationName,
          help: `Duration of gRPC calls ${who}, by method and status code`,
          labelNames,
          buckets: LATENCY_BUCKETS_SECONDS,
          registers: [registry],
        }),
    ),
  };
}

/** `OK`, `NOT_FOUND`, … as in the gRPC status code names. */
export function grpcCodeName(code: number): string {
  return grpc.status[code] ?? String(code);
}

function recorder(metrics: GrpcMetrics, method: string): (code: number) => void {
  const started = process.hrtime.bigint();
  let recorded = false;
  return (code) => {
    if (recorded) return;
    recorded = true;
    const labels = { method, code: grpcCodeName(code) };
    metrics.calls.inc(labels);
    metrics.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
  };
}

export function grpcServerMetricsInterceptor(registry: Registry): grpc.ServerInterceptor {
  const metrics = grpcMetrics(registry, 'server');
  return (methodDescriptor, call) => {
    const record = recorder(metrics, methodDescriptor.path);
    return new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({ onCancel: () => record(grpc.status.CANCELLED) });
      },
      sendStatus(status, next) {
        record(status.code);
        next(status);
      },
    });
  };
}

export function grpcClientMetricsInterceptor(registry: Registry): grpc.Interceptor {
  const metrics = grpcMetrics(registry, 'client');
  return (options, nextCall) => {
    const record = recorder(metrics, options.method_definition.path);
    return new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        next(metadata, {
          onReceiveStatus(status, nextStatus) {
            record(status.code);
            nextStatus(status);
          },
        });
      },
    });
  };
}
