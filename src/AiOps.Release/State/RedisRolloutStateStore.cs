using System.Text.Json;
using AiOps.State;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace AiOps.Release.State;

/// <summary>
/// A rollout state store shared by several replicas through Redis. Each model's state is a hash
/// (<c>rev</c>, <c>json</c>) written by a Lua script that checks the revision (optimistic concurrency) and publishes
/// the model name on a channel so every replica's routers re-read at once; routers also poll as a fallback. The
/// controller lease is a key set with <c>NX PX</c> and renewed only by its owner (also a Lua script). The connection
/// does not abort when Redis is down: calls fail fast and callers keep what they last read.
/// </summary>
internal sealed class RedisRolloutStateStore : IRolloutStateStore, IAsyncDisposable
{
    private const string SaveScript = """
        local rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
        if rev ~= tonumber(ARGV[1]) then return 0 end
        redis.call('HSET', KEYS[1], 'rev', tostring(rev + 1), 'json', ARGV[2])
        redis.call('PUBLISH', ARGV[3], ARGV[4])
        return 1
        """;

    private const string LeaseScript = """
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
          return 1
        end
        return 0
        """;

    private readonly ConfigurationOptions _configuration;
    private readonly ILogger _logger;
    private readonly string _prefix;
    private readonly RedisChannel _channel;
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private ConnectionMultiplexer? _connection;
    private int _subscribed;

    public RedisRolloutStateStore(string connectionString, ILogger<RedisRolloutStateStore> logger, string keyPrefix = "aiops:release:")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _configuration = ConfigurationOptions.Parse(connectionString);
        _configuration.AbortOnConnectFail = false;

        // While Redis is down calls fail at once (callers keep their last known state and queue their writes) rather
        // than wait in a backlog and run late, after the caller has moved on.
        _configuration.BacklogPolicy = BacklogPolicy.FailFast;
        if (!connectionString.Contains("connectTimeout", StringComparison.OrdinalIgnoreCase))
        {
            _configuration.ConnectTimeout = 2000;
        }

        if (!connectionString.Contains("asyncTimeout", StringComparison.OrdinalIgnoreCase))
        {
            _configuration.AsyncTimeout = 2000;
        }

        _logger = logger;
        _prefix = keyPrefix;
        _channel = RedisChannel.Literal(keyPrefix + "changed");
    }

    public event EventHandler<ModelId>? Changed;

    /// <summary>Whether the connection to Redis is up now.</summary>
    public bool IsConnected => _connection?.IsConnected ?? false;

    public async ValueTask<RolloutState?> GetAsync(ModelId model, CancellationToken cancellationToken = default)
    {
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var json = await db.HashGetAsync(StateKey(model), "json").ConfigureAwait(false);
        return json.IsNullOrEmpty ? null : JsonSerializer.Deserialize<RolloutState>((string)json!, ReleaseJson.Options);
    }

    public async ValueTask<bool> TrySaveAsync(RolloutState state, long expectedRevision, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var json = JsonSerializer.Serialize(state with { Revision = expectedRevision + 1 }, ReleaseJson.Options);
        var result = await db.ScriptEvaluateAsync(
            SaveScript,
            [StateKey(state.Model)],
            [expectedRevision, json, _channel.ToString(), state.Model.Value]).ConfigureAwait(false);
        return (long)result == 1;
    }

    public async ValueTask<bool> TryAcquireLeaseAsync(ModelId model, string owner, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var result = await db.ScriptEvaluateAsync(
            LeaseScript,
            [(RedisKey)(_prefix + model.Value + ":lease")],
            [owner, (long)Math.Max(1, duration.TotalMilliseconds)]).ConfigureAwait(false);
        return (long)result == 1;
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is { } c)
        {
            await c.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            await c.DisposeAsync().ConfigureAwait(false);
        }

        _connectGate.Dispose();
    }

    private RedisKey StateKey(ModelId model) => _prefix + model.Value + ":state";

    private async ValueTask<IDatabase> DatabaseAsync(CancellationToken cancellationToken)
    {
        if (_connection is { } existing)
        {
            await EnsureSubscribedAsync(existing).ConfigureAwait(false);
            return existing.GetDatabase();
        }

        await _connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_connection is null)
            {
                _connection = await ConnectionMultiplexer.ConnectAsync(_configuration).ConfigureAwait(false);
            }
        }
        finally
        {
            _connectGate.Release();
        }

        await EnsureSubscribedAsync(_connection).ConfigureAwait(false);
        return _connection.GetDatabase();
    }

    /// <summary>
    /// Subscribes to change notifications once. A connection still handshaking (or lost) refuses SUBSCRIBE: that is not
    /// a failure of the read or write at hand (routers also poll), so it is logged and retried on the next call.
    /// </summary>
    private async ValueTask EnsureSubscribedAsync(ConnectionMultiplexer connection)
    {
        if (Volatile.Read(ref _subscribed) != 0 || Interlocked.CompareExchange(ref _subscribed, 2, 0) != 0)
        {
            return;
        }

        try
        {
            await connection.GetSubscriber().SubscribeAsync(_channel, OnMessage).ConfigureAwait(false);
            Volatile.Write(ref _subscribed, 1);
        }
        catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException)
        {
            Volatile.Write(ref _subscribed, 0);
            _logger.LogWarning(e, "Could not subscribe to rollout change notifications on {Channel} yet ({Message}); polling covers changes meanwhile and the subscription is retried.", _channel, e.Message);
        }
    }

    private void OnMessage(RedisChannel channel, RedisValue message)
    {
        if (ModelId.IsValid(message, out _))
        {
            Changed?.Invoke(this, new ModelId(message!));
        }
        else
        {
            _logger.LogWarning("Ignored a rollout change notification with an invalid model name on {Channel}.", channel);
        }
    }
}
