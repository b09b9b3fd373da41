using AiOps.Inference.Diagnostics;
using AiOps.Inference.Sessions;

namespace AiOps.Inference;

/// <summary>
/// Stateful sequences (Triton's sequence batcher with implicit state): the state outputs of a sequence's call feed the
/// state inputs of its next call; the calls of one sequence run one at a time in arrival order.
/// </summary>
public sealed partial class OnnxModelRunner
{
    private readonly SequenceStore? _sequences;

    /// <summary>Sequences whose state is held now (stateful models; 0 otherwise).</summary>
    internal int LiveSequences => _sequences?.Count ?? 0;

    /// <summary>Whether <paramref name="input"/> is a state input the runner carries (callers leave it out; serving metadata hides it).</summary>
    internal bool IsCarriedStateInput(string input) => _sequences is not null && _options.Sequences.States.ContainsKey(input);

    /// <summary>Whether <paramref name="output"/> is a state output left out of responses (not <c>Sequences:ReturnStates</c>).</summary>
    internal bool IsHiddenStateOutput(string output) =>
        _sequences is not null && !_options.Sequences.ReturnStates && _options.Sequences.States.Values.Contains(output, StringComparer.Ordinal);

    private async Task<ModelResponse> RunInSequenceAsync(SequenceStore store, ModelRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.SequenceId))
        {
            throw BadSequence(nameof(ModelRequest.SequenceId), $"{Key} is stateful (Sequences:States) but the call gives no SequenceId; expected the correlation id of the call's sequence (and SequenceStart on its first call).");
        }

        var session = Volatile.Read(ref _current);
        foreach (var input in request.Inputs)
        {
            if (session is not null && Array.Exists(session.States, s => session.Inputs[s.Input].Name == input.Name))
            {
                throw BadSequence(input.Name, $"Input '{input.Name}' of {Key} is a state the runner carries between the calls of sequence '{request.SequenceId}'; expected it left out.");
            }
        }

        var (sequence, previous, turn) = store.Enter(request.SequenceId, request.SequenceStart);
        try
        {
            // Wait for the sequence's earlier calls (in arrival order); a caller that gives up keeps its place so the
            // calls after it still wait for the ones before it.
            await previous.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _ = previous.ContinueWith(static (_, t) => LeaveLater(t), (store, sequence, turn), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            _instruments.Completed(Outcomes.Cancelled, 0);
            throw new OperationCanceledException($"The call to {Key} was cancelled while it waited for the earlier calls of sequence '{request.SequenceId}'.", cancellationToken);
        }

        try
        {
            if (sequence.Dropped)
            {
                throw BadSequence(nameof(ModelRequest.SequenceEnd), $"Sequence '{request.SequenceId}' of {Key} was ended (SequenceEnd) by an earlier call while this call waited for its turn; expected no calls after the last one (send it again with SequenceStart to begin a new sequence).");
            }

            session = Volatile.Read(ref _current);
            if (session is null)
            {
                return await RunCoreAsync(request, cancellationToken).ConfigureAwait(false); // not ready: the usual error
            }

            if (request.SequenceStart || sequence.State is null)
            {
                sequence.State = InitialState(session, request);
            }

            var inputs = new List<ModelTensor>(request.Inputs.Count + session.States.Length);
            inputs.AddRange(request.Inputs);
            inputs.AddRange(sequence.State);
            var response = await RunCoreAsync(new ModelRequest(inputs) { RequestId = request.RequestId, RoutingKey = request.RoutingKey }, cancellationToken).ConfigureAwait(false);

            // The call succeeded: its state outputs become the sequence's state (a failed call leaves the state as it was).
            var next = new ModelTensor[session.States.Length];
            for (var s = 0; s < next.Length; s++)
            {
                var (input, output) = session.States[s];
                next[s] = Renamed(response[session.Outputs[output].Name], session.Inputs[input].Name);
            }

            sequence.State = next;
            if (_options.Sequences.ReturnStates)
            {
                return response;
            }

            var outputs = new List<ModelTensor>(response.Outputs.Count - next.Length);
            foreach (var output in response.Outputs)
            {
                if (!Array.Exists(session.States, s => session.Outputs[s.Output].Name == output.Name))
                {
                    outputs.Add(output);
                }
            }

            return new ModelResponse(response.Key, outputs);
        }
        finally
        {
            if (request.SequenceEnd)
            {
                store.End(sequence);
            }

            store.Leave(sequence, turn);
        }
    }

    private static void LeaveLater(object? state)
    {
        var (store, sequence, turn) = ((SequenceStore, SequenceState, TaskCompletionSource))state!;
        store.Leave(sequence, turn);
    }

    private ModelInputException BadSequence(string name, string message)
    {
        _instruments.Completed(Outcomes.BadInput, 0);
        return new ModelInputException(name, message) { Key = Key };
    }

    /// <summary>Zeros for every state input: fixed dimensions as declared, free ones sized like the call's input dimension of the same symbol, else 1.</summary>
    private static ModelTensor[] InitialState(LoadedSession session, ModelRequest request)
    {
        var state = new ModelTensor[session.States.Length];
        for (var s = 0; s < state.Length; s++)
        {
            var binding = session.Inputs[session.States[s].Input];
            var shape = new long[binding.Dims.Length];
            for (var d = 0; d < shape.Length; d++)
            {
                shape[d] = binding.Dims[d] >= 0 ? binding.Dims[d] : SizeOf(session, request, binding.Symbols[d]);
            }

            state[s] = binding.Ops.Zeros(binding.Name, shape);
        }

        return state;
    }

    private static long SizeOf(LoadedSession session, ModelRequest request, string? symbol)
    {
        if (symbol is null)
        {
            return 1;
        }

        foreach (var given in request.Inputs)
        {
            var binding = Array.Find(session.Inputs, i => i.Name == given.Name);
            if (binding is null || binding.Dims.Length != given.Rank)
            {
                continue;
            }

            for (var d = 0; d < binding.Dims.Length; d++)
            {
                if (binding.Dims[d] < 0 && binding.Symbols[d] == symbol)
                {
                    return given.Shape[d];
                }
            }
        }

        return 1;
    }

    /// <summary>The same elements under the state input's name (a view, no copy).</summary>
    private ModelTensor Renamed(ModelTensor output, string name) => output switch
    {
        ModelTensor<float> t => new ModelTensor<float>(name, t.Data, t.Shape),
        ModelTensor<double> t => new ModelTensor<double>(name, t.Data, t.Shape),
        ModelTensor<long> t => new ModelTensor<long>(name, t.Data, t.Shape),
        ModelTensor<int> t => new ModelTensor<int>(name, t.Data, t.Shape),
        ModelTensor<Half> t => new ModelTensor<Half>(name, t.Data, t.Shape),
        ModelTensor<short> t => new ModelTensor<short>(name, t.Data, t.Shape),
        ModelTensor<sbyte> t => new ModelTensor<sbyte>(name, t.Data, t.Shape),
        ModelTensor<byte> t => new ModelTensor<byte>(name, t.Data, t.Shape),
        ModelTensor<bool> t => new ModelTensor<bool>(name, t.Data, t.Shape),
        ModelTensor<ushort> t => new ModelTensor<ushort>(name, t.Data, t.Shape),
        ModelTensor<uint> t => new ModelTensor<uint>(name, t.Data, t.Shape),
        ModelTensor<ulong> t => new ModelTensor<ulong>(name, t.Data, t.Shape),
        _ => throw new ModelExecutionException($"State output '{output.Name}' is a {output.ElementType} tensor; expected a numeric or bool state (float, double, float16, integers, bool).") { Key = Key },
    };

    /// <summary>One sequence: its state, its place in line, and when it was last used.</summary>
    private sealed class SequenceState(string id)
    {
        public string Id { get; } = id;

        /// <summary>The state inputs for the next call (named as the inputs); <see langword="null"/> before the first call.</summary>
        public ModelTensor[]? State { get; set; }

        /// <summary>Completes when the last call in line leaves; the next call waits for it.</summary>
        public Task Tail { get; set; } = Task.CompletedTask;

        /// <summary>Calls queued or running (guarded by the store's lock); a busy sequence never expires.</summary>
        public int Busy { get; set; }

        public long LastUsed { get; set; }

        /// <summary>Ended or expired: no longer in the store.</summary>
        public bool Dropped { get; set; }
    }

    /// <summary>The live sequences of a stateful runner, bounded and expired after Sequences:IdleTimeout.</summary>
    private sealed class SequenceStore : IDisposable
    {
        private readonly Dictionary<string, SequenceState> _live = new(StringComparer.Ordinal);
        private readonly Lock _lock = new();
        private readonly OnnxModelRunner _runner;
        private readonly TimeSpan _idle;
        private readonly int _max;
        private readonly ITimer _sweeper;

        public SequenceStore(OnnxModelRunner runner)
        {
            _runner = runner;
            _idle = runner._options.Sequences.IdleTimeout;
            _max = runner._options.Sequences.MaxSequences;

            // Frees the state of idle sequences; a call also checks its own sequence, so expiry never waits for a sweep.
            _sweeper = runner._time.CreateTimer(static s => ((SequenceStore)s!).Sweep(), this, _idle, _idle);
        }

        public int Count
        {
            get
            {
                lock (_lock)
                {
                    return _live.Count;
                }
            }
        }

        /// <summary>Takes the call's place in its sequence's line: returns the task to wait for and the call's own turn.</summary>
        /// <exception cref="ModelInputException">The sequence is not held and the call does not start it.</exception>
        /// <exception cref="ModelRejectedException">Starting it would exceed Sequences:MaxSequences.</exception>
        public (SequenceState Sequence, Task Previous, TaskCompletionSource Turn) Enter(string id, bool start)
        {
            var turn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock)
            {
                var now = _runner._time.GetTimestamp();
                if (_live.TryGetValue(id, out var sequence) && sequence.Busy == 0 && _runner._time.GetElapsedTime(sequence.LastUsed, now) > _idle)
                {
                    Drop(sequence, "expired");
                    sequence = null;
                }

                if (sequence is null)
                {
                    if (!start)
                    {
                        throw _runner.BadSequence(
                            nameof(ModelRequest.SequenceStart),
                            $"Sequence '{id}' of {_runner.Key} is not held (never started, ended, or idle longer than {_idle} (Sequences:IdleTimeout)); expected SequenceStart on the call that starts it.");
                    }

                    if (_live.Count >= _max)
                    {
                        SweepLocked(now);
                    }

                    if (_live.Count >= _max)
                    {
                        _runner._instruments.Sequence("rejected");
                        _runner._instruments.Rejected();
                        throw new ModelRejectedException(
                            $"{_runner.Key} already holds {_max} sequences (Sequences:MaxSequences); sequence '{id}' was not started. End sequences with SequenceEnd, or retry once idle ones expire.") { Key = _runner.Key };
                    }

                    sequence = new SequenceState(id);
                    _live.Add(id, sequence);
                    _runner._instruments.Sequence("started");
                    _runner._instruments.LiveSequences(1);
                }
                else if (start)
                {
                    _runner._instruments.Sequence("started"); // a restart: the call resets the state at its turn
                }

                sequence.Busy++;
                var previous = sequence.Tail;
                sequence.Tail = turn.Task;
                return (sequence, previous, turn);
            }
        }

        /// <summary>The call is done: the next in line may run.</summary>
        public void Leave(SequenceState sequence, TaskCompletionSource turn)
        {
            lock (_lock)
            {
                sequence.Busy--;
                sequence.LastUsed = _runner._time.GetTimestamp();
            }

            turn.TrySetResult();
        }

        public void End(SequenceState sequence)
        {
            lock (_lock)
            {
                if (!sequence.Dropped)
                {
                    Drop(sequence, "ended");
                }
            }
        }

        public void Dispose()
        {
            _sweeper.Dispose();
            lock (_lock)
            {
                _runner._instruments.LiveSequences(-_live.Count);
                _live.Clear();
            }
        }

        private void Sweep()
        {
            lock (_lock)
            {
                SweepLocked(_runner._time.GetTimestamp());
            }
        }

        private void SweepLocked(long now)
        {
            List<SequenceState>? expired = null;
            foreach (var sequence in _live.Values)
            {
                if (sequence.Busy == 0 && _runner._time.GetElapsedTime(sequence.LastUsed, now) > _idle)
                {
                    (expired ??= []).Add(sequence);
                }
            }

            foreach (var sequence in expired ?? [])
            {
                Drop(sequence, "expired");
            }
        }

        private void Drop(SequenceState sequence, string why)
        {
            if (_live.TryGetValue(sequence.Id, out var held) && ReferenceEquals(held, sequence))
            {
                _live.Remove(sequence.Id);
                _runner._instruments.LiveSequences(-1);
            }

            sequence.Dropped = true;
            sequence.State = null;
            _runner._instruments.Sequence(why);
        }
    }
}
