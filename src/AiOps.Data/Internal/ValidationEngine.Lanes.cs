using System.Numerics;
using System.Runtime.ExceptionServices;
using AiOps.Data.Quality;

namespace AiOps.Data.Internal;

/// <summary>
/// Two cores for one validation, with the same report as one. The columns are split between two lanes; each lane reads the
/// whole file with its own parser (parsing is about a quarter of the work) and, for its own columns only, classifies the
/// fields, keeps the statistics and runs the rules, in file order — so every rule and every statistic sees exactly the
/// rows it sees on one thread, in the same order, and its counts, samples and sketches come out the same. The only
/// verdict that spans columns, "did this row fail any Error rule" (the pass rate, the admitted row count), is combined
/// through <see cref="RowVerdicts"/>: per block of rows, each lane's failure bits are OR-ed and counted, in a bounded ring.
/// </summary>
internal sealed partial class ValidationEngine
{
    /// <summary>The smallest file worth a second lane (below it the second parser's start-up is most of its gain).</summary>
    internal const long LanesMinimumBytes = 1 << 20;

    /// <summary>Test hook: how many runs of this engine used two lanes.</summary>
    internal int RunsInLanes => _runsInLanes;

    private int _runsInLanes;

    private sealed class Lane(IRowReader reader, bool owner)
    {
        public IRowReader Reader { get; } = reader;

        public RowContext Row { get; } = new(reader);

        /// <summary>The lane that counts rows, malformed rows and blank lines (both see them all).</summary>
        public bool Owner { get; } = owner;

        public List<int> StatColumns { get; } = [];

        public List<int> ClassifyColumns { get; } = [];

        public List<RowCheck> Checks { get; } = [];

        public long Rows;
        public long Malformed;
        public List<FailingRow> MalformedSamples { get; } = [];
    }

    /// <summary>Whether this run may use two lanes: no sink (the gate writes rows in order with every verdict), a CSV file
    /// that can be read twice and is large enough, more than one column, and no whole-row predicate (user code that reads
    /// every column is run on one thread, in order, as it is without lanes).</summary>
    private bool CanUseLanes(DataSource source, IRowSink? sink, int columns, RowCheck[] checks) =>
        maxDegreeOfParallelism >= 2
        && Environment.ProcessorCount >= 2
        && sink is null
        && columns >= 2
        && checks.Length > 0
        && source.CanReadInLanes
        && Array.TrueForAll(checks, c => c.Ordinal >= 0 || c.Rule is CompositeUniqueRule);

    /// <summary>Splits columns (with their rules) between two lanes by a rough cost: one per column for its statistics,
    /// one per rule, three for a regular expression; the heaviest first, each to the lighter lane.</summary>
    private static void Assign(Lane[] lanes, int columns, RowCheck[] checks, Func<string, int> ordinal)
    {
        var cost = new double[columns];
        Array.Fill(cost, 1);
        var owner = new int[checks.Length];
        for (var c = 0; c < checks.Length; c++)
        {
            var check = checks[c];
            var weight = check.Rule is RegexRule ? 3 : 1;
            if (check.Ordinal >= 0)
            {
                cost[check.Ordinal] += weight;
            }
        }

        var columnLane = new int[columns];
        var load = new double[lanes.Length];
        foreach (var column in Enumerable.Range(0, columns).OrderByDescending(i => cost[i]).ThenBy(i => i))
        {
            var lane = load[0] <= load[1] ? 0 : 1;
            columnLane[column] = lane;
            load[lane] += cost[column];
        }

        for (var c = 0; c < checks.Length; c++)
        {
            // A rule over several columns goes to the lighter lane; a single-column rule to its column's lane.
            owner[c] = checks[c].Ordinal >= 0 ? columnLane[checks[c].Ordinal] : load[0] <= load[1] ? 0 : 1;
            if (checks[c].Ordinal < 0)
            {
                load[owner[c]] += 2;
            }
        }

        var classify = new[] { new SortedSet<int>(), new SortedSet<int>() };
        for (var column = 0; column < columns; column++)
        {
            lanes[columnLane[column]].StatColumns.Add(column);
            classify[columnLane[column]].Add(column);
        }

        for (var c = 0; c < checks.Length; c++)
        {
            lanes[owner[c]].Checks.Add(checks[c]);
            foreach (var name in checks[c].Rule.ReferencedColumns)
            {
                classify[owner[c]].Add(ordinal(name));
            }
        }

        for (var l = 0; l < lanes.Length; l++)
        {
            lanes[l].ClassifyColumns.AddRange(classify[l]);
        }
    }

    private (long Rows, long FailedRows, long Malformed, List<FailingRow> MalformedSamples) RunLanes(
        DataSource source,
        IRowReader first,
        RowContext firstRow,
        ColumnAccumulator[] accumulators,
        RowCheck[] checks,
        HashSet<string>.AlternateLookup<ReadOnlySpan<char>>? nullTokens,
        int keyOrdinal,
        CancellationToken cancellationToken)
    {
        var n = accumulators.Length;
        using var second = source.OpenChecked();
        if (!second.Columns.SequenceEqual(first.Columns, StringComparer.Ordinal))
        {
            throw new InvalidOperationException($"Source '{source.Name}' changed while it was opened for validation: its header is no longer {string.Join(",", first.Columns)}.");
        }

        Interlocked.Increment(ref _runsInLanes);
        var lanes = new[] { new Lane(first, owner: true), new Lane(second, owner: false) };
        Assign(lanes, n, checks, firstRow.TryOrdinal); // sample keys are raw fields: every lane's parser has them
        var verdicts = new RowVerdicts(lanes.Length);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ExceptionDispatchInfo? secondFailure = null;
        var thread = new Thread(() =>
        {
            try
            {
                RunLane(lanes[1], accumulators, verdicts, nullTokens, keyOrdinal, stop.Token);
            }
            catch (Exception e)
            {
                secondFailure = ExceptionDispatchInfo.Capture(e);
                stop.Cancel();
            }
        })
        {
            IsBackground = true,
            Name = "AiOps.Data validation lane",
        };
        thread.Start();
        Exception? firstFailure = null;
        try
        {
            RunLane(lanes[0], accumulators, verdicts, nullTokens, keyOrdinal, stop.Token);
        }
        catch (Exception e)
        {
            firstFailure = e;
            stop.Cancel();
        }

        thread.Join();
        if (firstFailure is not null)
        {
            if (firstFailure is OperationCanceledException && !cancellationToken.IsCancellationRequested && secondFailure is not null)
            {
                secondFailure.Throw(); // the second lane failed first and stopped this one
            }

            ExceptionDispatchInfo.Throw(firstFailure);
        }

        secondFailure?.Throw();
        cancellationToken.ThrowIfCancellationRequested();
        if (lanes[1].Rows != lanes[0].Rows)
        {
            throw new InvalidOperationException($"Source '{source.Name}' changed while it was validated: one read found {lanes[0].Rows} rows, the other {lanes[1].Rows}.");
        }

        return (lanes[0].Rows, verdicts.Failed, lanes[0].Malformed, lanes[0].MalformedSamples);
    }

    private void RunLane(
        Lane lane,
        ColumnAccumulator[] accumulators,
        RowVerdicts verdicts,
        HashSet<string>.AlternateLookup<ReadOnlySpan<char>>? nullTokens,
        int keyOrdinal,
        CancellationToken cancellationToken)
    {
        var reader = lane.Reader;
        var row = lane.Row;
        var n = accumulators.Length;
        var classify = lane.ClassifyColumns.ToArray();
        var isStat = new bool[n];
        foreach (var c in lane.StatColumns)
        {
            isStat[c] = true;
        }

        var checks = lane.Checks.ToArray();
        var failures = new List<RowCheck>();
        var bits = new ulong[RowVerdicts.BlockRows / 64];
        long rows = 0;
        long block = 0;
        while (reader.Read())
        {
            var index = rows - (block * RowVerdicts.BlockRows);
            if (index == RowVerdicts.BlockRows)
            {
                verdicts.Merge(block, bits, cancellationToken);
                Array.Clear(bits);
                block++;
                index = 0;
            }

            rows++;
            if ((rows & 0x3FFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var fieldCount = reader.RowFieldCount;
            if (fieldCount != n || reader.Malformed is not null)
            {
                if (lane.Owner)
                {
                    lane.Malformed++;
                    bits[index >> 6] |= 1UL << (int)(index & 63);
                    if (lane.MalformedSamples.Count < sampleSize)
                    {
                        lane.MalformedSamples.Add(new FailingRow(reader.Line, reader.Row, null, null, reader.Malformed ?? $"expected {n} fields, found {fieldCount}"));
                    }
                }

                continue;
            }

            foreach (var i in classify)
            {
                ClassifyField(reader.GetField(i), i, row.IsNull, row.IsNumber, row.IsInteger, row.Number, isStat[i] ? accumulators[i] : null, nullTokens);
            }

            if (RunChecks(reader, row, checks, failures, keyOrdinal))
            {
                bits[index >> 6] |= 1UL << (int)(index & 63);
            }
        }

        lane.Rows = rows;
        verdicts.Merge(block, bits, cancellationToken);
        verdicts.Finish();
    }

    /// <summary>
    /// Which rows failed any Error rule, combined over the lanes a block of <see cref="BlockRows"/> rows at a time: each lane
    /// ORs its block's bits into the block's slot; the last lane to do so counts the bits and frees the slot. A ring of
    /// <see cref="Slots"/> slots bounds the memory (and how far one lane may run ahead of the other).
    /// </summary>
    internal sealed class RowVerdicts(int lanes)
    {
        public const int BlockRows = 1 << 16;
        private const int Slots = 8;
        private readonly object _gate = new();
        private readonly ulong[][] _slots = [.. Enumerable.Range(0, Slots).Select(_ => new ulong[BlockRows / 64])];
        private readonly long[] _slotBlock = [.. Enumerable.Range(0, Slots).Select(i => (long)i)];
        private readonly int[] _remaining = [.. Enumerable.Repeat(lanes, Slots)];
        private readonly int _lanes = lanes;
        private long _failed;
        private int _finished;

        public long Failed => Interlocked.Read(ref _failed);

        public void Merge(long block, ulong[] bits, CancellationToken cancellationToken)
        {
            var slot = (int)(block % Slots);
            lock (_gate)
            {
                while (_slotBlock[slot] != block)
                {
                    // This lane is a whole ring ahead: wait for the other to finish the block before. A lane that finished
                    // without merging it read fewer rows: the file changed between the two reads.
                    cancellationToken.ThrowIfCancellationRequested();
                    if (_finished > 0)
                    {
                        throw new InvalidOperationException("The source changed while it was validated: its two reads found different row counts.");
                    }

                    Monitor.Wait(_gate, 50);
                }

                var target = _slots[slot];
                for (var i = 0; i < target.Length; i++)
                {
                    target[i] |= bits[i];
                }

                if (--_remaining[slot] == 0)
                {
                    long count = 0;
                    foreach (var word in target)
                    {
                        count += BitOperations.PopCount(word);
                    }

                    _failed += count;
                    Array.Clear(target);
                    _remaining[slot] = _lanes;
                    _slotBlock[slot] = block + Slots;
                    Monitor.PulseAll(_gate);
                }
            }
        }

        /// <summary>Marks a lane done (its last block merged), waking a lane that waits for a block it will never merge.</summary>
        public void Finish()
        {
            lock (_gate)
            {
                _finished++;
                Monitor.PulseAll(_gate);
            }
        }
    }
}
