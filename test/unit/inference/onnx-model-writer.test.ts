import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  encodeOnnxModel,
  OnnxGraphBuilder,
  type OnnxModelSpec,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from '../../../src/inference/onnx/onnx-model-writer.js';

const float = (name: string, shape: (number | string)[]): OnnxValueInfo => ({ name, type: 'float32', shape });

function model(
  nodes: OnnxNode[],
  inputs: OnnxValueInfo[],
  outputs: OnnxValueInfo[],
  initializers: OnnxTensor[] = [],
): OnnxModelSpec {
  return { graph: { name: 'test', nodes, inputs, outputs, initializers } };
}

async function run(spec: OnnxModelSpec, feeds: Record<string, ort.Tensor>) {
  const session = await ort.InferenceSession.create(encodeOnnxModel(spec), { intraOpNumThreads: 1 });
  return { session, outputs: await session.run(feeds) };
}

const values = (tensor: ort.OnnxValue | undefined) => Array.from(tensor!.data as Float32Array, Number);

describe('encodeOnnxModel, run in onnxruntime', () => {
  it('writes float32 and int64 initializers as raw data (Add, Reshape)', async () => {
    const spec = model(
      [
        { opType: 'Add', inputs: ['x', 'offset'], outputs: ['sum'] },
        { opType: 'Reshape', inputs: ['sum', 'shape'], outputs: ['y'] },
      ],
      [float('x', [2, 3])],
      [float('y', [3, 2])],
      [
        { name: 'offset', type: 'float32', dims: [3], data: new Float32Array([0.5, -1.25, 1e-3]) },
        { name: 'shape', type: 'int64', dims: [2], data: [3, -1] },
      ],
    );
    const { outputs } = await run(spec, {
      x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]),
    });
    expect(outputs.y!.dims).toEqual([3, 2]);
    const expected = [1.5, 0.75, 3.001, 4.5, 3.75, 6.001];
    values(outputs.y).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
  });

  it('writes int and ints attributes, negative ones included (Transpose perm, Concat axis -1, Gemm transB)', async () => {
    const spec = model(
      [
        { opType: 'Transpose', inputs: ['x'], outputs: ['t'], attributes: { perm: { ints: [1, 0] } } },
        { opType: 'Concat', inputs: ['t', 't'], outputs: ['c'], attributes: { axis: { int: -1 } } },
        { opType: 'Gemm', inputs: ['x', 'w'], outputs: ['g'], attributes: { transB: { int: 1 } } },
      ],
      [float('x', [2, 3])],
      [float('c', [3, 4]), float('g', [2, 1])],
      [{ name: 'w', type: 'float32', dims: [1, 3], data: [1, 10, 100] }],
    );
    const { outputs } = await run(spec, {
      x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]),
    });
    expect(outputs.c!.dims).toEqual([3, 4]);
    expect(values(outputs.c)).toEqual([1, 4, 1, 4, 2, 5, 2, 5, 3, 6, 3, 6]);
    expect(values(outputs.g)).toEqual([321, 654]);
  });

  it('writes float attributes as floats, never as ints (LeakyRelu alpha 1 vs 0.25, Elu alpha)', async () => {
    const spec = model(
      [
        { opType: 'LeakyRelu', inputs: ['x'], outputs: ['one'], attributes: { alpha: { float: 1 } } },
        { opType: 'LeakyRelu', inputs: ['x'], outputs: ['quarter'], attributes: { alpha: { float: 0.25 } } },
        { opType: 'Elu', inputs: ['x'], outputs: ['elu'], attributes: { alpha: { float: 2 } } },
      ],
      [float('x', [2])],
      [float('one', [2]), float('quarter', [2]), float('elu', [2])],
    );
    const { outputs } = await run(spec, { x: new ort.Tensor('float32', Float32Array.from([-2, 3]), [2]) });
    expect(values(outputs.one)).toEqual([-2, 3]);
    expect(values(outputs.quarter)).toEqual([-0.5, 3]);
    expect(values(outputs.elu)[0]).toBeCloseTo(2 * (Math.exp(-2) - 1), 6);
  });

  it('writes floats, ints, string and tensor attributes (Constant, Pad mode)', async () => {
    const spec = model(
      [
        {
          opType: 'Constant',
          inputs: [],
          outputs: ['floats'],
          attributes: { value_floats: { floats: [0.1, 2, -3.5] } },
        },
        {
          opType: 'Constant',
          inputs: [],
          outputs: ['ints'],
          attributes: { value_ints: { ints: [-7, 0, 2 ** 40] } },
        },
        {
          opType: 'Constant',
          inputs: [],
          outputs: ['matrix'],
          attributes: { value: { tensor: { name: 'm', type: 'float32', dims: [2, 2], data: [1, 2, 3, 4] } } },
        },
        {
          opType: 'Pad',
          inputs: ['x', 'pads'],
          outputs: ['reflected'],
          attributes: { mode: { string: 'reflect' } },
        },
      ],
      [float('x', [3])],
      [
        float('floats', [3]),
        { name: 'ints', type: 'int64', shape: [3] },
        float('matrix', [2, 2]),
        float('reflected', [5]),
      ],
      [{ name: 'pads', type: 'int64', dims: [2], data: [1, 1] }],
    );
    const { outputs } = await run(spec, { x: new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [3]) });
    values(outputs.floats).forEach((v, i) => expect(v).toBeCloseTo([0.1, 2, -3.5][i]!, 6));
    expect(Array.from(outputs.ints!.data as BigInt64Array)).toEqual([-7n, 0n, 2n ** 40n]);
    expect(outputs.matrix!.dims).toEqual([2, 2]);
    expect(values(outputs.matrix)).toEqual([1, 2, 3, 4]);
    expect(values(outputs.reflected)).toEqual([2, 1, 2, 3, 2]);
  });

  it('declares symbolic dimensions, which accept any size', async () => {
    const g = new OnnxGraphBuilder();
    g.op('Mul', ['x', g.floats('two', [2], [])], undefined, 'y');
    const spec = model(g.nodes, [float('x', ['N', 2])], [float('y', ['N', 2])], g.initializers);
    const session = await ort.InferenceSession.create(encodeOnnxModel(spec));
    expect(session.inputMetadata[0]).toMatchObject({
      name: 'x',
      isTensor: true,
      type: 'float32',
      shape: ['N', 2],
    });
    for (const n of [1, 4]) {
      const x = new ort.Tensor(
        'float32',
        Float32Array.from({ length: 2 * n }, (_, i) => i),
        [n, 2],
      );
      const { y } = await session.run({ x });
      expect(y!.dims).toEqual([n, 2]);
      expect(values(y)).toEqual(Array.from({ length: 2 * n }, (_, i) => 2 * i));
    }
  });
});

describe('encodeOnnxModel, ModelProto fields', () => {
  it('writes ir_version 8, producer nodus, opset 17, the doc string and metadata', () => {
    const bytes = encodeOnnxModel({
      ...model([{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }], [float('x', [1])], [float('y', [1])]),
      docString: 'a test model',
      metadata: { spacingMm: '1.5', recipe: 'models/recipes/x.ts' },
    });
    const fields = readFields(bytes);
    expect(fields.filter((f) => f.field === 1).map((f) => f.value)).toEqual([8]);
    expect(text(fields, 2)).toEqual(['nodus']);
    expect(text(fields, 6)).toEqual(['a test model']);
    const opset = fields.filter((f) => f.field === 8).map((f) => readFields(f.value as Uint8Array));
    expect(opset).toHaveLength(1);
    expect(text(opset[0]!, 1)).toEqual(['']);
    expect(opset[0]!.find((f) => f.field === 2)?.value).toBe(17);
    const metadata = fields
      .filter((f) => f.field === 14)
      .map((f) => readFields(f.value as Uint8Array))
      .map((entry) => [text(entry, 1)[0], text(entry, 2)[0]]);
    expect(Object.fromEntries(metadata)).toEqual({ spacingMm: '1.5', recipe: 'models/recipes/x.ts' });
  });

  it('refuses non-integer ints and tensors whose data does not fill their dims', () => {
    const attribute = (value: number) =>
      model(
        [{ opType: 'Flatten', inputs: ['x'], outputs: ['y'], attributes: { axis: { int: value } } }],
        [float('x', [1])],
        [float('y', [1, 1])],
      );
    expect(() => encodeOnnxModel(attribute(1.5))).toThrow(/not an integer/);
    const tensor = model(
      [],
      [float('x', [1])],
      [float('x', [1])],
      [{ name: 't', type: 'float32', dims: [2, 2], data: [1, 2, 3] }],
    );
    expect(() => encodeOnnxModel(tensor)).toThrow(/3 values for dims \[2, 2\]/);
  });
});

/** Top-level fields of a protobuf message: varints as numbers, length-delimited as bytes. */
function readFields(bytes: Uint8Array): { field: number; value: number | Uint8Array }[] {
  const fields: { field: number; value: number | Uint8Array }[] = [];
  let offset = 0;
  const varint = () => {
    let result = 0;
    let shift = 1;
    for (;;) {
      const byte = bytes[offset++]!;
      result += (byte & 0x7f) * shift;
      shift *= 128;
      if (byte < 0x80) return result;
    }
  };
  while (offset < bytes.length) {
    const tag = varint();
    const wireType = tag & 7;
    const field = Math.floor(tag / 8);
    if (wireType === 0) fields.push({ field, value: varint() });
    else if (wireType === 2) {
      const length = varint();
      fields.push({ field, value: bytes.subarray(offset, offset + length) });
      offset += length;
    } else if (wireType === 5) offset += 4;
    else throw new Error(`unexpected wire type ${wireType}`);
  }
  return fields;
}

function text(fields: { field: number; value: number | Uint8Array }[], field: number): string[] {
  return fields.filter((f) => f.field === field).map((f) => new TextDecoder().decode(f.value as Uint8Array));
}
