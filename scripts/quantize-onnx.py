#!/usr/bin/python3
"""Quantize the linear layers of an exported BERT ONNX model to int8, as transformers.js's q8
models are: dynamic quantization (activations quantized per call, weights once).

usage: /usr/bin/python3 scripts/quantize-onnx.py ONNX_DIR

Reads ONNX_DIR/onnx/model.onnx (scripts/export-onnx.py) and writes ONNX_DIR/onnx/model_quantized.onnx,
the file transformers.js loads for dtype 'q8'. Every MatMul whose second input is a 2-D weight
initializer becomes onnxruntime's DynamicQuantizeMatMul (com.microsoft), the kernel that
onnxruntime's own quantize_dynamic graphs are fused into: int8 weights with one symmetric scale per
output column (the scheme of bert-embed-native's dtype 'int8'), activations quantized to uint8 on
every call. Only python3-onnx is needed (no python onnxruntime exists here).
"""

import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def quantize_columns(weight):
    scale = np.maximum(np.abs(weight).max(axis=0), 1e-12) / 127.0
    quantized = np.clip(np.rint(weight / scale), -127, 127).astype(np.int8)
    return quantized, scale.astype(np.float32)


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    onnx_dir = os.path.join(argv[0], 'onnx')
    model = onnx.load(os.path.join(onnx_dir, 'model.onnx'))
    graph = model.graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    nodes = []
    replaced = 0
    for node in graph.node:
        weight = initializers.get(node.input[1]) if node.op_type == 'MatMul' else None
        if weight is None or len(weight.dims) != 2:
            nodes.append(node)
            continue
        quantized, scale = quantize_columns(numpy_helper.to_array(weight).astype(np.float32))
        base = node.input[1]
        graph.initializer.extend([
            numpy_helper.from_array(quantized, base + '_int8'),
            numpy_helper.from_array(scale, base + '_scale'),
            numpy_helper.from_array(np.zeros(scale.shape, np.int8), base + '_zero_point'),
        ])
        nodes.append(helper.make_node('DynamicQuantizeMatMul', [node.input[0], base + '_int8', base + '_scale', base + '_zero_point'],
                                      list(node.output), name=node.name + '_quant', domain='com.microsoft'))
        graph.initializer.remove(weight)
        replaced += 1
    del graph.node[:]
    graph.node.extend(nodes)
    model.opset_import.append(helper.make_opsetid('com.microsoft', 1))
    out = os.path.join(onnx_dir, 'model_quantized.onnx')
    onnx.save(model, out)
    print(f'{out}: {replaced} MatMul nodes quantized')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
