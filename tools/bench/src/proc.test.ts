import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeCpu, parseProcStatCpuSeconds, parseProcStatus, processMemory, startCpuMeter } from './proc.js';

describe('process memory', () => {
  it('reads VmRSS and VmHWM out of /proc/<pid>/status text', () => {
    const text = 'Name:\tnode\nVmPeak:\t 1200000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t11\n';
    assert.deepEqual(parseProcStatus(text), { rssMiB: 100, peakRssMiB: 200 });
  });

  it('names the field that is missing', () => {
    assert.throws(() => parseProcStatus('Name:\tnode\nVmHWM:\t 1 kB\n'), /VmRSS/);
  });

  it('reads this process: resident memory is positive and at most its peak', () => {
    const memory = processMemory(process.pid);
    assert.ok(memory.rssMiB > 0);
    assert.ok(memory.rssMiB <= memory.peakRssMiB);
  });
});

describe('process CPU time', () => {
  it('reads user + system ticks after the command name, whatever it holds', () => {
    const fields = ['S', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '250', '50', '0'];
    assert.equal(parseProcStatCpuSeconds(`42 (node (x) y) ${fields.join(' ')}`), 3);
  });

  it('measures the CPU time this process spends spinning, and names the load generator', () => {
    const meter = startCpuMeter([{ name: 'self', pid: process.pid }]);
    const until = performance.now() + 200;
    while (performance.now() < until) Math.sqrt(Math.random());
    const busy = meter.stop();
    assert.deepEqual(busy.map((s) => s.name), ['self', 'load generator']);
    assert.ok((busy[1]?.cores ?? 0) > 0, `spinning: ${JSON.stringify(busy)}`);
    assert.match(describeCpu(busy), /^CPU self \d+%, load generator \d+% \(100% = one core\)$/);
  });
});
