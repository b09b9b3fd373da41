using System.IO.Compression;

namespace AiOps.Data.Internal;

/// <summary>Recognises gzip by its magic bytes (1F 8B), whatever the file is called, and decompresses it while it is read.</summary>
internal static class Gzip
{
    /// <summary>The stream itself, or a decompressing stream over it when it starts with the gzip magic bytes. Non-seekable streams
    /// keep the bytes read to look.</summary>
    public static Stream Decompressing(Stream stream)
    {
        Span<byte> magic = stackalloc byte[2];
        var n = 0;
        try
        {
            while (n < 2)
            {
                var r = stream.Read(magic[n..]);
                if (r == 0)
                {
                    break;
                }

                n += r;
            }
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        var isGzip = n == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
        Stream start;
        if (stream.CanSeek)
        {
            stream.Seek(-n, SeekOrigin.Current);
            start = stream;
        }
        else
        {
            start = new PrefixedStream(magic[..n].ToArray(), stream);
        }

        return isGzip ? new GZipStream(start, CompressionMode.Decompress, leaveOpen: false) : start;
    }

    /// <summary>A read-only stream that returns <c>prefix</c>, then the rest of <c>inner</c>.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : Stream
    {
        private int _pos;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_pos < prefix.Length)
            {
                var n = Math.Min(buffer.Length, prefix.Length - _pos);
                prefix.AsSpan(_pos, n).CopyTo(buffer);
                _pos += n;
                return n;
            }

            return inner.Read(buffer);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
