using System.Text;

namespace AiOps.Data.Internal;

/// <summary>UTF-8 decoding that marks each invalid byte sequence with <see cref="Marker"/>, the noncharacter U+FDD0 (reserved by
/// Unicode for internal use and never interchanged), so a valid U+FFFD in the data is told apart from a decoding error. (A decoder
/// fallback may not produce an unpaired surrogate, which no valid UTF-8 could hold.) A U+FDD0 in the data is reported as invalid.</summary>
internal static class MarkingUtf8
{
    /// <summary>The character an invalid byte sequence decodes to.</summary>
    public const char Marker = '\uFDD0';

    public static Encoding Create()
    {
        var encoding = (Encoding)new UTF8Encoding(false, false).Clone();
        encoding.DecoderFallback = new Fallback();
        return encoding;
    }

    private sealed class Fallback : DecoderFallback
    {
        public override int MaxCharCount => 1;

        public override DecoderFallbackBuffer CreateFallbackBuffer() => new Buffer();
    }

    private sealed class Buffer : DecoderFallbackBuffer
    {
        private int _remaining;
        private bool _given;

        public override int Remaining => _remaining;

        public override bool Fallback(byte[] bytesUnknown, int index)
        {
            _remaining = 1;
            _given = false;
            return true;
        }

        public override char GetNextChar()
        {
            if (_remaining == 0)
            {
                return '\0';
            }

            _remaining--;
            _given = true;
            return Marker;
        }

        public override bool MovePrevious()
        {
            if (!_given || _remaining != 0)
            {
                return false;
            }

            _remaining = 1;
            _given = false;
            return true;
        }

        public override void Reset()
        {
            _remaining = 0;
            _given = false;
        }
    }
}

/// <summary>Passes CSV text through unchanged, except a record whose quoting is broken (a quoted field closed and followed by more
/// text, <c>1,"ab"c</c>, or a quote never closed): that record is rewritten in valid RFC 4180 (read as Python's csv module and pandas
/// read it: the text after the closing quote is kept literally) and its record index noted, so the parser never fails on it and the
/// engine quarantines it. Record boundaries (and so line numbers) are unchanged. One vectorised scan per record finds the quotes;
/// records without a quote are copied as they are.</summary>
internal sealed class TolerantCsvText : TextReader
{
    private enum State : byte
    {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }

    private readonly TextReader _inner;
    private readonly char _delimiter;
    private readonly Queue<(long Line, string Reason)> _malformed = new();
    private readonly Queue<(int Start, int Length, string Text)> _rewrites = new();
    private char[] _buf = new char[1 << 16];
    private int _start;
    private int _ready;
    private int _scan;
    private int _end;
    private int _recStart;
    private long _line = 1;
    private long _recordLine = 1;
    private State _state = State.FieldStart;
    private bool _recordBad;
    private bool _eof;
    private string? _pendingRewrite;
    private int _pendingOffset;

    public TolerantCsvText(TextReader inner, char delimiter)
    {
        _inner = inner;
        _delimiter = delimiter;
    }

    /// <summary>Whether any record seen so far had broken quoting (a cheap check before <see cref="MalformedReason"/>).</summary>
    public bool AnyMalformed => _malformed.Count > 0;

    /// <summary>Why the record starting on physical line <paramref name="line"/> (1 = the header) had broken quoting, or null.
    /// Must be asked in ascending order of lines.</summary>
    public string? MalformedReason(long line)
    {
        while (_malformed.TryPeek(out var m) && m.Line < line)
        {
            _malformed.Dequeue();
        }

        return _malformed.TryPeek(out var x) && x.Line == line ? x.Reason : null;
    }

    public override int Read(Span<char> buffer)
    {
        var written = 0;
        while (written < buffer.Length)
        {
            if (_pendingRewrite is not null)
            {
                var n = Math.Min(buffer.Length - written, _pendingRewrite.Length - _pendingOffset);
                _pendingRewrite.AsSpan(_pendingOffset, n).CopyTo(buffer[written..]);
                written += n;
                _pendingOffset += n;
                if (_pendingOffset == _pendingRewrite.Length)
                {
                    _pendingRewrite = null;
                }

                continue;
            }

            if (_start == _ready)
            {
                if (written > 0 || !Fill())
                {
                    break;
                }

                continue;
            }

            var limit = _ready;
            if (_rewrites.TryPeek(out var rw))
            {
                if (rw.Start == _start)
                {
                    _rewrites.Dequeue();
                    _start += rw.Length;
                    _pendingRewrite = rw.Text;
                    _pendingOffset = 0;
                    continue;
                }

                limit = Math.Min(limit, rw.Start);
            }

            var count = Math.Min(buffer.Length - written, limit - _start);
            _buf.AsSpan(_start, count).CopyTo(buffer[written..]);
            written += count;
            _start += count;
        }

        return written;
    }

    public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

    public override int Peek() => throw new NotSupportedException("TolerantCsvText is read in blocks.");

    public override int Read()
    {
        Span<char> one = stackalloc char[1];
        return Read(one) == 0 ? -1 : one[0];
    }

    /// <summary>Reads more text and scans it; false at the end with nothing left.</summary>
    private bool Fill()
    {
        while (_start == _ready)
        {
            if (_eof)
            {
                return false;
            }

            // Keep the unfinished record; compact or grow the buffer.
            if (_start > 0)
            {
                var keep = _end - _start;
                Array.Copy(_buf, _start, _buf, 0, keep);
                var shift = _start;
                _recStart -= shift;
                _scan -= shift;
                _ready -= shift;
                _end = keep;
                _start = 0;
                if (_rewrites.Count > 0)
                {
                    var moved = _rewrites.ToArray();
                    _rewrites.Clear();
                    foreach (var r in moved)
                    {
                        _rewrites.Enqueue((r.Start - shift, r.Length, r.Text));
                    }
                }
            }

            if (_end == _buf.Length)
            {
                Array.Resize(ref _buf, _buf.Length * 2);
            }

            var read = _inner.Read(_buf, _end, _buf.Length - _end);
            if (read == 0)
            {
                _eof = true;
                if (_end > _recStart)
                {
                    if (_state == State.Quoted)
                    {
                        _recordBad = true;
                        Note("a quoted field is never closed: expected a closing quote before the end of the file");
                    }

                    EndRecord(_end);
                }

                _ready = _end;
                continue;
            }

            _end += read;
            Scan();
        }

        return true;
    }

    private void Scan()
    {
        var d = _delimiter;
        var i = _scan;
        while (i < _end)
        {
            switch (_state)
            {
                case State.Quoted:
                {
                    var rest = _buf.AsSpan(i, _end - i);
                    var q = rest.IndexOf('"');
                    if (q < 0)
                    {
                        _line += rest.Count('\n');
                        i = _end;
                        continue;
                    }

                    _line += rest[..q].Count('\n');
                    i += q + 1;
                    _state = State.QuoteInQuoted;
                    continue;
                }

                case State.QuoteInQuoted:
                {
                    var c = _buf[i];
                    if (c == '"')
                    {
                        _state = State.Quoted;
                        i++;
                    }
                    else if (c == d)
                    {
                        _state = State.FieldStart;
                        i++;
                    }
                    else if (c is '\n' or '\r')
                    {
                        _state = State.Unquoted;
                    }
                    else
                    {
                        // 1,"ab"c: the quoted field ends at the quote; the rest is kept literally, and the record is quarantined.
                        if (!_recordBad)
                        {
                            _recordBad = true;
                            Note("a quoted field is followed by more text: expected RFC 4180 quoting (a quoted field ends with a quote followed by the delimiter or a line end, and a quote inside it is doubled)");
                        }

                        _state = State.Unquoted;
                    }

                    continue;
                }

                default:
                {
                    if (_state == State.FieldStart && _buf[i] == '"')
                    {
                        _state = State.Quoted;
                        i++;
                        continue;
                    }

                    var span = _buf.AsSpan(i, _end - i);
                    var k = span.IndexOfAny('"', '\n');
                    if (k < 0)
                    {
                        // The rest of the block holds no quote and no line end; remember whether the last character ends a field.
                        _state = span[^1] == d ? State.FieldStart : State.Unquoted;
                        i = _end;
                        continue;
                    }

                    var at = i + k;
                    if (_buf[at] == '\n')
                    {
                        _line++;
                        i = at + 1;
                        EndRecord(i);
                        continue;
                    }

                    // A quote opens a quoted field only at the start of a field; elsewhere it is a literal character.
                    _state = at == _recStart || _buf[at - 1] == d ? State.Quoted : State.Unquoted;
                    i = at + 1;
                    continue;
                }
            }
        }

        _scan = i;
    }

    private void Note(string reason) => _malformed.Enqueue((_recordLine, reason));

    /// <summary>A record ends at <paramref name="next"/> (just past its line end, or the end of the text).</summary>
    private void EndRecord(int next)
    {
        if (_recordBad)
        {
            var textEnd = next > _recStart && _buf[next - 1] == '\n' ? next - 1 : next;
            _rewrites.Enqueue((_recStart, textEnd - _recStart, Rewrite(_buf.AsSpan(_recStart, textEnd - _recStart))));
            _recordBad = false;
        }

        _recordLine = _line;
        _recStart = next;
        _ready = next;
        _state = State.FieldStart;
    }

    /// <summary>The record read leniently (a closing quote followed by text keeps that text; an unclosed quote runs to the end) and
    /// written back with every field quoted.</summary>
    private string Rewrite(ReadOnlySpan<char> record)
    {
        var cr = record.Length > 0 && record[^1] == '\r';
        if (cr)
        {
            record = record[..^1];
        }

        var sb = new StringBuilder(record.Length + 8);
        sb.Append('"');
        var state = State.FieldStart;
        for (var i = 0; i < record.Length; i++)
        {
            var c = record[i];
            switch (state)
            {
                case State.Quoted:
                    if (c == '"')
                    {
                        if (i + 1 < record.Length && record[i + 1] == '"')
                        {
                            sb.Append("\"\"");
                            i++;
                        }
                        else
                        {
                            state = State.Unquoted;
                        }
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
                default:
                    if (c == _delimiter)
                    {
                        sb.Append('"').Append(_delimiter).Append('"');
                        state = State.FieldStart;
                    }
                    else if (c == '"' && state == State.FieldStart)
                    {
                        state = State.Quoted;
                    }
                    else
                    {
                        sb.Append(c == '"' ? "\"\"" : c.ToString());
                        state = State.Unquoted;
                    }

                    break;
            }
        }

        sb.Append('"');
        if (cr)
        {
            sb.Append('\r');
        }

        return sb.ToString();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
