using System.Runtime.InteropServices;

namespace AiOps.TestModels;

/// <summary>ONNX tensor element types (the <c>TensorProto.DataType</c> enum) the kit writes.</summary>
public enum OnnxDataType
{
    /// <summary>32-bit float.</summary>
    Float = 1,

    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 2,

    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 3,

    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 4,

    /// <summary>32-bit integer.</summary>
    Int32 = 6,

    /// <summary>64-bit integer.</summary>
    Int64 = 7,

    /// <summary>UTF-8 string.</summary>
    String = 8,

    /// <summary>Boolean.</summary>
    Bool = 9,

    /// <summary>16-bit IEEE float (float16).</summary>
    Float16 = 10,

    /// <summary>64-bit float.</summary>
    Double = 11,

    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 12,

    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 13,

    /// <summary>bfloat16 (the upper half of a 32-bit float).</summary>
    BFloat16 = 16,
}

/// <summary>
/// Builds an ONNX <c>ModelProto</c> by hand: graph inputs and outputs, float initializers and nodes with int, float
/// or string attributes. Enough for MatMul, Add, Relu, Sigmoid, Softmax and Identity graphs; deterministic bytes.
/// </summary>
public sealed class OnnxModelBuilder
{
    // Field numbers from onnx/onnx.proto3.
    private const long IrVersion = 8;

    private readonly List<ProtoWriter> _inputs = [];
    private readonly List<ProtoWriter> _outputs = [];
    private readonly List<ProtoWriter> _initializers = [];
    private readonly List<ProtoWriter> _nodes = [];
    private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MemoryStream> _external = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _opsets = new(StringComparer.Ordinal);

    /// <summary>Creates a builder for a graph called <paramref name="graphName"/>.</summary>
    /// <param name="graphName">The graph name.</param>
    /// <param name="opset">The default-domain opset version (13 by default).</param>
    public OnnxModelBuilder(string graphName, int opset = 13)
    {
        GraphName = graphName;
        Opset = opset;
    }

    /// <summary>The graph name.</summary>
    public string GraphName { get; }

    /// <summary>The opset version.</summary>
    public int Opset { get; }

    /// <summary>
    /// Adds a graph input. A dimension given as a string is symbolic (dynamic), e.g. <c>"batch"</c>; <see langword="null"/>
    /// is dynamic and unnamed.
    /// </summary>
    /// <param name="name">The input name.</param>
    /// <param name="type">The element type.</param>
    /// <param name="dims">Each a <see cref="long"/>/<see cref="int"/> (fixed), <see cref="string"/> (symbolic) or <see langword="null"/> (unnamed).</param>
    public OnnxModelBuilder AddInput(string name, OnnxDataType type, params object?[] dims)
    {
        _inputs.Add(ValueInfo(name, type, dims));
        return this;
    }

    /// <summary>Adds a graph output.</summary>
    /// <param name="name">The output name.</param>
    /// <param name="type">The element type.</param>
    /// <param name="dims">Each a <see cref="long"/>/<see cref="int"/> (fixed), <see cref="string"/> (symbolic) or <see langword="null"/> (unnamed).</param>
    public OnnxModelBuilder AddOutput(string name, OnnxDataType type, params object?[] dims)
    {
        _outputs.Add(ValueInfo(name, type, dims));
        return this;
    }

    /// <summary>
    /// Adds a graph output that is a sequence of maps (<c>seq(map(key, value))</c>), what scikit-learn's ZipMap gives.
    /// </summary>
    /// <param name="name">The output name.</param>
    /// <param name="keyType">The map key type (<see cref="OnnxDataType.Int64"/> or <see cref="OnnxDataType.String"/>).</param>
    /// <param name="valueType">The map value type (e.g. <see cref="OnnxDataType.Float"/>).</param>
    public OnnxModelBuilder AddSequenceOfMapsOutput(string name, OnnxDataType keyType, OnnxDataType valueType)
    {
        _outputs.Add(SequenceOfMaps(name, keyType, valueType));
        return this;
    }

    /// <summary>Adds a graph input that is a sequence of maps (models that take one are refused by AiOps; for tests of that).</summary>
    /// <param name="name">The input name.</param>
    /// <param name="keyType">The map key type.</param>
    /// <param name="valueType">The map value type.</param>
    public OnnxModelBuilder AddSequenceOfMapsInput(string name, OnnxDataType keyType, OnnxDataType valueType)
    {
        _inputs.Add(SequenceOfMaps(name, keyType, valueType));
        return this;
    }

    private static ProtoWriter SequenceOfMaps(string name, OnnxDataType keyType, OnnxDataType valueType)
    {
        var value = new ProtoWriter().Message(1, new ProtoWriter().Varint(1, (int)valueType));
        var map = new ProtoWriter().Varint(1, (int)keyType).Message(2, value);
        var sequence = new ProtoWriter().Message(1, new ProtoWriter().Message(5, map));
        return new ProtoWriter().String(1, name).Message(2, new ProtoWriter().Message(4, sequence));
    }

    /// <summary>Imports an operator set besides the default one, e.g. <c>ai.onnx.ml</c> for ZipMap, LinearClassifier and LabelEncoder.</summary>
    /// <param name="domain">The domain.</param>
    /// <param name="version">The opset version.</param>
    public OnnxModelBuilder AddOpset(string domain, int version)
    {
        _opsets[domain] = version;
        return this;
    }

    /// <summary>Adds a float16 initializer (weights of an fp16 export), stored as raw little-endian data.</summary>
    /// <param name="name">The tensor name.</param>
    /// <param name="data">The values, row-major.</param>
    /// <param name="dims">The dimensions.</param>
    public OnnxModelBuilder AddInitializer(string name, Half[] data, params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(data);
        var t = new ProtoWriter();
        t.PackedInt64(1, dims);
        t.Varint(2, (int)OnnxDataType.Float16);
        t.String(8, name);
        t.Bytes(9, MemoryMarshal.AsBytes(data.AsSpan()));
        _initializers.Add(t);
        return this;
    }

    /// <summary>
    /// Adds a node of any domain with attributes of the types ONNX-ML operators use: <see cref="long"/>,
    /// <see cref="float"/>, <see cref="string"/>, <c>long[]</c>, <c>float[]</c>, <c>string[]</c>.
    /// </summary>
    /// <param name="opType">The operator, e.g. <c>ZipMap</c>.</param>
    /// <param name="domain">The operator's domain (<c>ai.onnx.ml</c>; empty for the default one).</param>
    /// <param name="inputs">Input tensor names.</param>
    /// <param name="outputs">Output tensor names.</param>
    /// <param name="attributes">The attributes by name.</param>
    public OnnxModelBuilder AddNode(string opType, string domain, string[] inputs, string[] outputs, IReadOnlyDictionary<string, object> attributes)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        AddNode(opType, inputs, outputs);
        var n = _nodes[^1];
        foreach (var (key, value) in attributes.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            var a = new ProtoWriter().String(1, key);
            switch (value)
            {
                case float f:
                    a.Float(2, f).Varint(20, 1);
                    break;
                case long l:
                    a.Varint(3, l).Varint(20, 2);
                    break;
                case int i:
                    a.Varint(3, i).Varint(20, 2);
                    break;
                case string text:
                    a.String(4, text).Varint(20, 3);
                    break;
                case float[] floats:
                    foreach (var f in floats)
                    {
                        a.Float(7, f);
                    }

                    a.Varint(20, 6);
                    break;
                case long[] longs:
                    foreach (var l in longs)
                    {
                        a.Varint(8, l);
                    }

                    a.Varint(20, 7);
                    break;
                case string[] strings:
                    foreach (var text in strings)
                    {
                        a.String(9, text);
                    }

                    a.Varint(20, 8);
                    break;
                default:
                    throw new ArgumentException($"Attribute '{key}' of {opType} is a {value?.GetType().Name ?? "null"}; expected long, float, string or an array of them.", nameof(attributes));
            }

            n.Message(5, a);
        }

        if (!string.IsNullOrEmpty(domain))
        {
            n.String(7, domain);
        }

        return this;
    }

    /// <summary>Adds a float initializer (a constant weight tensor), stored as raw little-endian data.</summary>
    /// <param name="name">The tensor name.</param>
    /// <param name="data">The values, row-major.</param>
    /// <param name="dims">The dimensions.</param>
    public OnnxModelBuilder AddInitializer(string name, float[] data, params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(data);
        var t = new ProtoWriter();
        t.PackedInt64(1, dims);
        t.Varint(2, (int)OnnxDataType.Float);
        t.String(8, name);
        t.Bytes(9, MemoryMarshal.AsBytes(data.AsSpan()));
        _initializers.Add(t);
        return this;
    }

    /// <summary>
    /// Adds a float initializer stored as external data: its bytes go to <paramref name="location"/> (a file next to
    /// the model, see <see cref="ExternalFiles"/>) instead of the <c>.onnx</c> file, as exporters do for big models.
    /// </summary>
    /// <param name="name">The tensor name.</param>
    /// <param name="data">The values, row-major.</param>
    /// <param name="location">The external file, relative to the model's folder.</param>
    /// <param name="dims">The dimensions.</param>
    public OnnxModelBuilder AddExternalInitializer(string name, float[] data, string location, params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!_external.TryGetValue(location, out var file))
        {
            _external[location] = file = new MemoryStream();
        }

        var offset = file.Length;
        file.Write(MemoryMarshal.AsBytes(data.AsSpan()));
        var t = new ProtoWriter();
        t.PackedInt64(1, dims);
        t.Varint(2, (int)OnnxDataType.Float);
        t.String(8, name);
        t.Message(13, new ProtoWriter().String(1, "location").String(2, location));
        t.Message(13, new ProtoWriter().String(1, "offset").String(2, offset.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        t.Message(13, new ProtoWriter().String(1, "length").String(2, (data.Length * 4L).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        t.Varint(14, 1); // DataLocation.EXTERNAL
        _initializers.Add(t);
        return this;
    }

    /// <summary>The external data files of initializers added with <see cref="AddExternalInitializer"/>, by location.</summary>
    public IReadOnlyDictionary<string, byte[]> ExternalFiles => _external.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);

    /// <summary>Writes the model to <paramref name="path"/> and its external data files next to it.</summary>
    /// <param name="path">The <c>.onnx</c> file.</param>
    /// <returns><paramref name="path"/>.</returns>
    public string WriteTo(string path)
    {
        File.WriteAllBytes(path, Build());
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        foreach (var (location, bytes) in ExternalFiles)
        {
            File.WriteAllBytes(Path.Combine(folder, location), bytes);
        }

        return path;
    }

    /// <summary>Adds an int64 initializer (e.g. the <c>pads</c> of Pad, the bounds of Range).</summary>
    /// <param name="name">The tensor name.</param>
    /// <param name="data">The values, row-major.</param>
    /// <param name="dims">The dimensions (none for a scalar).</param>
    public OnnxModelBuilder AddInitializer(string name, long[] data, params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(data);
        var t = new ProtoWriter();
        t.PackedInt64(1, dims);
        t.Varint(2, (int)OnnxDataType.Int64);
        t.String(8, name);
        t.Bytes(9, MemoryMarshal.AsBytes(data.AsSpan()));
        _initializers.Add(t);
        return this;
    }

    /// <summary>Adds a node with string attributes (e.g. Pad's <c>mode = reflect</c>) besides integer ones.</summary>
    /// <param name="opType">The operator.</param>
    /// <param name="inputs">Input tensor names.</param>
    /// <param name="outputs">Output tensor names.</param>
    /// <param name="intAttributes">Integer attributes.</param>
    /// <param name="stringAttributes">String attributes.</param>
    public OnnxModelBuilder AddNode(string opType, string[] inputs, string[] outputs, IReadOnlyDictionary<string, long>? intAttributes, IReadOnlyDictionary<string, string> stringAttributes)
    {
        ArgumentNullException.ThrowIfNull(stringAttributes);
        AddNode(opType, inputs, outputs, intAttributes);
        var n = _nodes[^1];
        foreach (var (key, value) in stringAttributes.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            var a = new ProtoWriter();
            a.String(1, key);
            a.Bytes(4, System.Text.Encoding.UTF8.GetBytes(value));
            a.Varint(20, 3); // AttributeType.STRING
            n.Message(5, a);
        }

        return this;
    }

    /// <summary>Adds a node.</summary>
    /// <param name="opType">The operator, e.g. <c>MatMul</c>.</param>
    /// <param name="inputs">Input tensor names.</param>
    /// <param name="outputs">Output tensor names.</param>
    /// <param name="intAttributes">Integer attributes (e.g. Softmax's <c>axis</c>).</param>
    public OnnxModelBuilder AddNode(string opType, string[] inputs, string[] outputs, IReadOnlyDictionary<string, long>? intAttributes = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        var n = new ProtoWriter();
        foreach (var i in inputs)
        {
            n.String(1, i);
        }

        foreach (var o in outputs)
        {
            n.String(2, o);
        }

        n.String(3, $"{opType}_{_nodes.Count}");
        n.String(4, opType);
        if (intAttributes is not null)
        {
            foreach (var (key, value) in intAttributes.OrderBy(a => a.Key, StringComparer.Ordinal))
            {
                var a = new ProtoWriter();
                a.String(1, key);
                a.Varint(3, value);
                a.Varint(20, 2); // AttributeType.INT
                n.Message(5, a);
            }
        }

        _nodes.Add(n);
        return this;
    }

    /// <summary>Adds a metadata property to the model.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    public OnnxModelBuilder AddMetadata(string key, string value)
    {
        _metadata[key] = value;
        return this;
    }

    /// <summary>Serialises the model to ONNX bytes.</summary>
    public byte[] Build()
    {
        var graph = new ProtoWriter();
        foreach (var n in _nodes)
        {
            graph.Message(1, n);
        }

        graph.String(2, GraphName);
        foreach (var i in _initializers)
        {
            graph.Message(5, i);
        }

        foreach (var i in _inputs)
        {
            graph.Message(11, i);
        }

        foreach (var o in _outputs)
        {
            graph.Message(12, o);
        }

        var model = new ProtoWriter();
        model.Varint(1, IrVersion);
        model.String(2, "AiOps.TestModels");
        model.String(3, "1.0");
        model.Varint(5, 1);
        model.Message(7, graph);
        model.Message(8, new ProtoWriter().String(1, string.Empty).Varint(2, Opset));
        foreach (var (domain, version) in _opsets.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            model.Message(8, new ProtoWriter().String(1, domain).Varint(2, version));
        }
        foreach (var (key, value) in _metadata.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            model.Message(14, new ProtoWriter().String(1, key).String(2, value));
        }

        return model.ToArray();
    }

    private static ProtoWriter ValueInfo(string name, OnnxDataType type, object?[] dims)
    {
        var shape = new ProtoWriter();
        foreach (var d in dims)
        {
            var dim = new ProtoWriter();
            switch (d)
            {
                case null:
                    break; // neither size nor name: an unknown dimension, as skl2onnx writes None
                case string symbol:
                    dim.String(2, symbol);
                    break;
                case int i:
                    dim.Varint(1, i);
                    break;
                case long l:
                    dim.Varint(1, l);
                    break;
                default:
                    throw new ArgumentException($"Dimension '{d}' of '{name}' must be an int, a long or a symbolic string.", nameof(dims));
            }

            shape.Message(1, dim);
        }

        var tensorType = new ProtoWriter().Varint(1, (int)type).Message(2, shape);
        var typeProto = new ProtoWriter().Message(1, tensorType);
        return new ProtoWriter().String(1, name).Message(2, typeProto);
    }
}
