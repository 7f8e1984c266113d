/**
 * A minimal encoder of ONNX models (ModelProto, protobuf binary), enough for the graphs nodus builds from its
 * own recipes (models/recipes): nodes with int, float, ints, floats, string and tensor attributes, float32 and
 * int64 initializers (raw_data, little-endian), and inputs/outputs with static or symbolic (dim_param) dims.
 *
 * Field numbers are those of onnx.proto3 (ONNX 1.x). Repeated scalars are written packed, which every
 * protobuf parser accepts for proto2 and proto3 alike. The model has ir_version 8 and imports the default
 * operator set ("" domain) at version 17 unless told otherwise.
 */

/** Element types of the constant tensors nodus writes. */
export type OnnxElementType = 'float32' | 'int64';

/** Element types of graph values (inputs, outputs, intermediate values). */
export type OnnxValueType = OnnxElementType | 'bool';

/**
 * A node attribute. The kind is explicit, so an integer 1 (`{ int: 1 }`) and a float 1.0 (`{ float: 1 }`)
 * can never be confused.
 */
export type OnnxAttribute =
  | { int: number }
  | { float: number }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { string: string }
  | { tensor: OnnxTensor };

/** A constant tensor (initializer or tensor attribute), row-major. */
export type OnnxTensor =
  | { name: string; type: 'float32'; dims: readonly number[]; data: Float32Array | readonly number[] }
  | { name: string; type: 'int64'; dims: readonly number[]; data: BigInt64Array | readonly number[] };

export interface OnnxNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  /** Operator domain; "" (the default ONNX domain) when absent. */
  domain?: string;
  attributes?: Readonly<Record<string, OnnxAttribute>>;
}

/** A dimension: a fixed size, or a symbolic name (dim_param) shared by dimensions that must agree. */
export type OnnxDim = number | string;

export interface OnnxValueInfo {
  name: string;
  type: OnnxValueType;
  shape: readonly OnnxDim[];
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers?: readonly OnnxTensor[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
  /**
   * Declared types and shapes of intermediate values (GraphProto.value_info). Optional: onnxruntime infers
   * them, but loses symbolic dims through some operators (Conv); declared ones keep them, which helps its
   * memory planner (5% lower peak memory for the candidate generator).
   */
  valueInfo?: readonly OnnxValueInfo[];
  docString?: string;
}

export interface OnnxModelSpec {
  graph: OnnxGraph;
  docString?: string;
  /** Free-form key/value pairs stored in the model (ModelProto.metadata_props). */
  metadata?: Readonly<Record<string, string>>;
  producerVersion?: string;
  modelVersion?: number;
  /** Default-domain operator set version; 17 when absent. */
  opsetVersion?: number;
}

const IR_VERSION = 8;
const DEFAULT_OPSET = 17;
const PRODUCER_NAME = 'nodus';

/** TensorProto.DataType values. */
const DATA_TYPE: Record<OnnxValueType, number> = { float32: 1, int64: 7, bool: 9 };

/** AttributeProto.AttributeType values. */
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextEncoder();

/** Encodes a model as the bytes of an .onnx file. */
export function encodeOnnxModel(model: OnnxModelSpec): Uint8Array {
  const out = new ProtoWriter();
  out.varintField(1, IR_VERSION);
  out.stringField(2, PRODUCER_NAME);
  if (model.producerVersion !== undefined) out.stringField(3, model.producerVersion);
  if (model.modelVersion !== undefined) out.varintField(5, model.modelVersion);
  if (model.docString !== undefined) out.stringField(6, model.docString);
  out.messageField(7, encodeGraph(model.graph));
  const opset = new ProtoWriter();
  opset.stringField(1, '');
  opset.varintField(2, model.opsetVersion ?? DEFAULT_OPSET);
  out.messageField(8, opset.finish());
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    const entry = new ProtoWriter();
    entry.stringField(1, key);
    entry.stringField(2, value);
    out.messageField(14, entry.finish());
  }
  return out.finish();
}

function encodeGraph(graph: OnnxGraph): Uint8Array {
  const out = new ProtoWriter();
  for (const node of graph.nodes) out.messageField(1, encodeNode(node));
  out.stringField(2, graph.name);
  for (const tensor of graph.initializers ?? []) out.messageField(5, encodeTensor(tensor));
  if (graph.docString !== undefined) out.stringField(10, graph.docString);
  for (const input of graph.inputs) out.messageField(11, encodeValueInfo(input));
  for (const output of graph.outputs) out.messageField(12, encodeValueInfo(output));
  for (const info of graph.valueInfo ?? []) out.messageField(13, encodeValueInfo(info));
  return out.finish();
}

function encodeNode(node: OnnxNode): Uint8Array {
  const out = new ProtoWriter();
  for (const input of node.inputs) out.stringField(1, input);
  for (const output of node.outputs) out.stringField(2, output);
  if (node.name !== undefined) out.stringField(3, node.name);
  out.stringField(4, node.opType);
  for (const [name, value] of Object.entries(node.attributes ?? {})) {
    out.messageField(5, encodeAttribute(name, value));
  }
  if (node.domain !== undefined) out.stringField(7, node.domain);
  return out.finish();
}

function encodeAttribute(name: string, attribute: OnnxAttribute): Uint8Array {
  const out = new ProtoWriter();
  out.stringField(1, name);
  if ('int' in attribute) {
    out.varintField(3, requireInteger(attribute.int, name));
    out.varintField(20, ATTRIBUTE_TYPE.int);
  } else if ('float' in attribute) {
    out.float32Field(2, attribute.float);
    out.varintField(20, ATTRIBUTE_TYPE.float);
  } else if ('ints' in attribute) {
    out.packedVarintField(
      8,
      attribute.ints.map((v) => requireInteger(v, name)),
    );
    out.varintField(20, ATTRIBUTE_TYPE.ints);
  } else if ('floats' in attribute) {
    out.packedFloat32Field(7, attribute.floats);
    out.varintField(20, ATTRIBUTE_TYPE.floats);
  } else if ('string' in attribute) {
    out.stringField(4, attribute.string);
    out.varintField(20, ATTRIBUTE_TYPE.string);
  } else {
    out.messageField(5, encodeTensor(attribute.tensor));
    out.varintField(20, ATTRIBUTE_TYPE.tensor);
  }
  return out.finish();
}

function encodeTensor(tensor: OnnxTensor): Uint8Array {
  const count = tensor.dims.reduce((product, d) => product * d, 1);
  if (tensor.data.length !== count) {
    throw new Error(
      `tensor ${tensor.name}: ${tensor.data.length} values for dims [${tensor.dims.join(', ')}] (${count})`,
    );
  }
  const out = new ProtoWriter();
  out.packedVarintField(
    1,
    tensor.dims.map((d) => requireInteger(d, tensor.name)),
  );
  out.varintField(2, DATA_TYPE[tensor.type]);
  out.stringField(8, tensor.name);
  out.bytesField(9, rawData(tensor));
  return out.finish();
}

/** Little-endian bytes of a tensor's values (TensorProto.raw_data). */
function rawData(tensor: OnnxTensor): Uint8Array {
  const { data } = tensor;
  if (tensor.type === 'float32') {
    const bytes = new Uint8Array(data.length * 4);
    const view = new DataView(bytes.buffer);
    for (let index = 0; index < data.length; index += 1)
      view.setFloat32(index * 4, Number(data[index]), true);
    return bytes;
  }
  const bytes = new Uint8Array(data.length * 8);
  const view = new DataView(bytes.buffer);
  for (let index = 0; index < data.length; index += 1) {
    const value = data[index]!;
    view.setBigInt64(
      index * 8,
      typeof value === 'bigint' ? value : BigInt(requireInteger(value, tensor.name)),
      true,
    );
  }
  return bytes;
}

function encodeValueInfo(info: OnnxValueInfo): Uint8Array {
  const shape = new ProtoWriter();
  for (const dim of info.shape) {
    const dimension = new ProtoWriter();
    if (typeof dim === 'number') dimension.varintField(1, requireInteger(dim, info.name));
    else dimension.stringField(2, dim);
    shape.messageField(1, dimension.finish());
  }
  const tensorType = new ProtoWriter();
  tensorType.varintField(1, DATA_TYPE[info.type]);
  tensorType.messageField(2, shape.finish());
  const type = new ProtoWriter();
  type.messageField(1, tensorType.finish());
  const out = new ProtoWriter();
  out.stringField(1, info.name);
  out.messageField(2, type.finish());
  return out.finish();
}

function requireInteger(value: number, where: string): number {
  if (!Number.isSafeInteger(value)) throw new Error(`${where}: ${value} is not an integer`);
  return value;
}

/** Appends protobuf fields to a growing buffer. */
class ProtoWriter {
  private bytes = new Uint8Array(256);
  private length = 0;

  finish(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }

  varintField(field: number, value: number): void {
    this.tag(field, WIRE_VARINT);
    this.varint(value);
  }

  float32Field(field: number, value: number): void {
    this.tag(field, WIRE_FIXED32);
    this.reserve(4);
    new DataView(this.bytes.buffer).setFloat32(this.length, value, true);
    this.length += 4;
  }

  stringField(field: number, value: string): void {
    this.bytesField(field, utf8.encode(value));
  }

  messageField(field: number, encoded: Uint8Array): void {
    this.bytesField(field, encoded);
  }

  bytesField(field: number, value: Uint8Array): void {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.varint(value.length);
    this.reserve(value.length);
    this.bytes.set(value, this.length);
    this.length += value.length;
  }

  packedVarintField(field: number, values: readonly number[]): void {
    const packed = new ProtoWriter();
    for (const value of values) packed.varint(value);
    this.bytesField(field, packed.finish());
  }

  packedFloat32Field(field: number, values: readonly number[]): void {
    const packed = new Uint8Array(values.length * 4);
    const view = new DataView(packed.buffer);
    values.forEach((value, index) => view.setFloat32(index * 4, value, true));
    this.bytesField(field, packed);
  }

  private tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  /** A base-128 varint; negative numbers as 64-bit two's complement (ten bytes), as protobuf int64 does. */
  private varint(value: number): void {
    let rest = BigInt.asUintN(64, BigInt(value));
    this.reserve(10);
    do {
      const low = Number(rest & 0x7fn);
      rest >>= 7n;
      this.bytes[this.length++] = rest > 0n ? low | 0x80 : low;
    } while (rest > 0n);
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    let capacity = this.bytes.length * 2;
    while (capacity < this.length + extra) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
}

/**
 * Collects the nodes and initializers of a graph, naming intermediate values automatically, so recipes read
 * as a sequence of operations: `const y = g.op('Relu', [x])`.
 */
export class OnnxGraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  readonly valueInfo: OnnxValueInfo[] = [];
  private counter = 0;

  /** A fresh value name, `<hint>_<n>`. */
  name(hint: string): string {
    this.counter += 1;
    return `${hint}_${this.counter}`;
  }

  /** Adds a node with one output; returns that output's name (`output` when given). */
  op(
    opType: string,
    inputs: readonly string[],
    attributes?: Record<string, OnnxAttribute>,
    output?: string,
  ): string {
    const name = output ?? this.name(opType.toLowerCase());
    this.nodes.push({ opType, inputs, outputs: [name], name: `${opType}:${name}`, attributes });
    return name;
  }

  /** Declares the type and shape of an intermediate value (see OnnxGraph.valueInfo); returns its name. */
  declare(name: string, type: OnnxValueType, shape: readonly OnnxDim[]): string {
    this.valueInfo.push({ name, type, shape });
    return name;
  }

  /** A float32 initializer; returns its name. A scalar when `dims` is empty. */
  floats(
    hint: string,
    values: Float32Array | readonly number[],
    dims: readonly number[] = [values.length],
  ): string {
    const name = this.name(hint);
    this.initializers.push({ name, type: 'float32', dims, data: values });
    return name;
  }

  /** An int64 initializer; returns its name. */
  int64s(hint: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = this.name(hint);
    this.initializers.push({ name, type: 'int64', dims, data: values });
    return name;
  }
}
