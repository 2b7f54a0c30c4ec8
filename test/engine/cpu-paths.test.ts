// What the engine chooses per CPU (issue 22), each choice held to the float64 reference:
// - the instruction-set class and the choices libtorchInfo() and `bert-embed info` report;
// - oneDNN's own ceiling (DNNL_MAX_CPU_ISA) lowers our choices too, which runs the AVX2 attention
//   kernel and int8's 7-bit weights (CPUs without VNNI) on this machine whatever it has;
// - dtype 'bfloat16' without bf16 instructions fails at load with ERR_UNSUPPORTED;
// - a batch's vectors do not depend on its intra-op thread count (small batches take one thread
//   while the cores are contended).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder, libtorchInfo } from '../../lib/index.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { cosine, expectVectorsClose } from '../helpers/compare.js';
import { stsSentences } from '../helpers/sts.js';
import { loadReferenceModel, referenceEncode, type ReferenceModel, type ReferencePoolingOptions } from '../reference/bert-f64.js';
import { jsonLines, runCli } from '../cli/run-cli.js';
import { cpuFlags, isaClass } from '../../bench/host.mjs';

const MODEL = checkpointDir('minilm');
const sentences = stsSentences('dev').slice(0, 40);
const asReference: ReferencePoolingOptions = { pooling: 'REDUCE_MEAN', layers: [-1], maskClsSep: false, normalize: false, clsId: 101, sepId: 102 };
const REFERENCE_FLAGS = ['--pooling', 'REDUCE_MEAN', '--layers=-1'];

describe('the CPU paths', () => {
  let reference: ReferenceModel;
  let expected: Float64Array[];
  beforeAll(async () => {
    reference = loadReferenceModel(MODEL);
    const encoder = await Encoder.load(MODEL, {});
    try {
      expected = encoder.tokenize(sentences).map((t) => referenceEncode(reference, t.ids, asReference, t.typeIds));
    } finally {
      await encoder.close();
    }
  });

  it('reports the class and the choices: in-process and in `bert-embed info`', async () => {
    const flags = cpuFlags();
    const { cpu } = libtorchInfo();
    expect(cpu.isaClass).toBe(isaClass());
    expect(cpu.attentionKernel).toBe(flags.has('avx512f') ? 'avx512' : flags.has('avx2') ? 'avx2' : 'portable');
    expect(cpu.bfloat16).toBe(flags.has('avx512_bf16') || flags.has('amx_bf16'));
    console.log(`[cpu paths] ${cpu.model}: ${cpu.isaClass}, attention ${cpu.attentionKernel}, int8 ${cpu.int8Kernel}, bfloat16 ${cpu.bfloat16}`);
    const info = await runCli(['info', '-m', MODEL, '--json']);
    expect(info.code).toBe(0);
    expect(JSON.parse(info.stdout.toString()).cpu).toEqual(cpu);
  });

  it('under DNNL_MAX_CPU_ISA=AVX2: the AVX2 kernels, within 1e-4 of the reference; int8 with 7-bit weights at cosine 0.99', async () => {
    if (!cpuFlags().has('avx2')) {
      console.log('[cpu paths] skipped the AVX2 ceiling: this CPU has no AVX2');
      return;
    }
    const env = { DNNL_MAX_CPU_ISA: 'AVX2' };
    const info = JSON.parse((await runCli(['info', '-m', MODEL, '--json'], { env })).stdout.toString());
    expect(info.cpu).toMatchObject({ isaClass: 'avx2', attentionKernel: 'avx2', bfloat16: false });
    if (libtorchInfo().oneDnnLinear && info.cpu.int8Kernel.startsWith('oneDNN')) expect(info.cpu.int8Kernel).toBe('oneDNN without VNNI, 7-bit weights');
    const input = `${sentences.join('\n')}\n`;
    const float32 = await runCli(['encode', '-m', MODEL, ...REFERENCE_FLAGS, '-'], { env, input });
    expect(float32.code, float32.stderr).toBe(0);
    const vectors = Float32Array.from(jsonLines(float32.stdout).flatMap((r) => r.embedding as number[]));
    expectVectorsClose(vectors, expected.flatMap((v) => Array.from(v)), expected[0].length, 1e-4, 'float32 under the AVX2 ceiling');
    const int8 = await runCli(['encode', '-m', MODEL, '--dtype', 'int8', ...REFERENCE_FLAGS, '-'], { env, input });
    expect(int8.code, int8.stderr).toBe(0);
    const cosines = jsonLines(int8.stdout).map((r, i) => cosine(r.embedding as number[], expected[i]));
    expect(Math.min(...cosines)).toBeGreaterThanOrEqual(0.99);
  });

  it("dtype 'bfloat16' on a CPU without bf16 instructions fails at load with ERR_UNSUPPORTED, naming what to use", async () => {
    const result = await runCli(['encode', '-m', MODEL, '--dtype', 'bfloat16', '-'], { env: { DNNL_MAX_CPU_ISA: 'AVX512_CORE' }, input: 'a sentence\n' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/dtype 'bfloat16' on the CPU needs bf16 instructions \(avx512_bf16 or AMX\), and this CPU has (avx512|avx2|sse)\b.*Use 'int8' .* or 'float32'/);
  });
});

describe('intra-op threads per batch', () => {
  const encoders: Encoder[] = [];
  afterAll(async () => {
    for (const encoder of encoders) await encoder.close();
  });

  for (const dtype of ['float32', 'int8', 'bfloat16'] as const) {
    // The batches whose thread count changes with contention: up to 64 tokens (native/engine/cpu_threads.h).
    // (Larger ones always run on the configured threads; torch's own bfloat16 products, in addons without
    // our oneDNN kernels, do give other bits on other thread counts there.)
    it(`${dtype}: one thread and two give the same bits for one sentence and for a small batch`, async (context) => {
      if (dtype === 'bfloat16' && !libtorchInfo().cpu.bfloat16) {
        console.log('[cpu paths] skipped bfloat16 threads: this CPU has no bf16 instructions');
        context.skip();
      }
      const outputs: Float32Array[][] = [];
      for (const threads of [1, 2]) {
        const encoder = await Encoder.load(MODEL, { threads, dtype });
        encoders.push(encoder);
        const alone: Float32Array[] = [];
        for (const sentence of sentences.slice(0, 10)) alone.push((await encoder.encode([sentence])).data);
        const small = sentences.filter((s) => encoder.tokenize([s])[0].ids.length <= 16).slice(0, 4);
        expect(small.length * 16).toBeLessThanOrEqual(64);
        outputs.push([...alone, (await encoder.encode(small)).data]);
      }
      outputs[0].forEach((data, i) => expect(Array.from(outputs[1][i]), `output ${i}`).toEqual(Array.from(data)));
    });
  }
});
