using AiOps.Data.Pii;

namespace AiOps.Data.Tests;

public sealed class PiiTests
{
    private static readonly PiiMasker Masker = Validate.Masker;

    // 11010519491231002X is the standard's published example; its check character is X.
    private const string ValidId = "11010519491231002X";
    private const string BadCheckId = "110105194912310021";

    [Theory]
    [InlineData("13812341234", "138****1234")]
    [InlineData("call 19912345678 now", "call 199****5678 now")]
    [InlineData("+8613812341234", "+86138****1234")]
    [InlineData("+86 13812341234", "+86 138****1234")]
    [InlineData("008615912345678", "0086159****5678")]
    public void Mask_ChinaMobile_KeepsFirstThreeAndLastFour(string input, string expected)
    {
        var r = Masker.Mask(input);
        Assert.Equal(expected, r.Text);
        Assert.Equal(PiiKind.ChinaMobile, Assert.Single(r.Findings).Kind);
    }

    [Theory]
    [InlineData("12812341234")] // 1 then 2: not a mobile prefix
    [InlineData("138123412345")] // 12 digits
    public void Mask_NotAMobile_LeftAlone(string input) => Assert.Equal(input, Masker.Mask(input).Text);

    [Fact]
    public void ResidentId_CheckCharacter_FollowsIso7064()
    {
        Assert.Equal('X', ChinaResidentId.ComputeCheckCharacter(ValidId.AsSpan(0, 17)));
        Assert.True(ChinaResidentId.IsValid(ValidId));
        Assert.True(ChinaResidentId.IsValid(ValidId.ToLowerInvariant()));
        Assert.False(ChinaResidentId.IsValid(BadCheckId));
        Assert.False(ChinaResidentId.IsValid("11010519490231002X")); // 31 February... day 31 of month 02
    }

    [Fact]
    public void Mask_ValidResidentId_MaskedKeepingRegionAndLastFour()
    {
        var r = Masker.Mask($"ID {ValidId}.");
        Assert.Equal("ID 110105********002X.", r.Text);
        Assert.True(Assert.Single(r.Findings).Masked);
    }

    [Fact]
    public void Mask_InvalidCheckDigit_NotMaskedAndReported()
    {
        var r = Masker.Mask($"ID {BadCheckId}");
        Assert.Equal($"ID {BadCheckId}", r.Text);
        var f = Assert.Single(r.Rejected);
        Assert.Equal(PiiKind.ChinaResidentId, f.Kind);
        Assert.Equal(3, f.Start);
        Assert.Contains("check character", f.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Mask_Email_KeepsFirstCharAndDomain()
    {
        Assert.Equal("mail z***@example.com.cn!", Masker.Mask("mail zhang.san+ml@example.com.cn!").Text);
    }

    [Theory]
    [InlineData("4111 1111 1111 1111", "************1111")]
    [InlineData("6222-0212-3456-7894", "************7894")]
    [InlineData("card 6222021234567894 ok", "card ************7894 ok")]
    public void Mask_BankCardPassingLuhn_KeepsLastFour(string input, string expected) => Assert.Equal(expected, Masker.Mask(input).Text);

    [Fact]
    public void Mask_DigitRunFailingLuhn_NotMaskedAsCard()
    {
        Assert.False(Luhn.IsValid("6222021234567895"));
        Assert.Equal("6222021234567895", Masker.Mask("6222021234567895").Text);
    }

    [Theory]
    [InlineData("from 192.168.10.25 at", "from 192.168.*.* at")]
    [InlineData("10.0.0.1.", "10.0.*.*.")]
    [InlineData("version 1.2.3.4.5", "version 1.2.3.4.5")]
    [InlineData("256.1.1.1", "256.1.1.1")]
    public void Mask_IPv4(string input, string expected) => Assert.Equal(expected, Masker.Mask(input).Text);

    [Fact]
    public void Operators_RedactReplaceHash_Apply()
    {
        const string text = "tel 13812341234 mail a@b.cn";
        Assert.Equal("tel  mail ", Masker.Mask(text, PiiMaskingPolicy.For(PiiOperator.Redact)).Text);
        Assert.Equal("tel <CHINA_MOBILE> mail <EMAIL>", Masker.Mask(text, PiiMaskingPolicy.For(PiiOperator.Replace)).Text);

        var policy = new PiiMaskingPolicy(PiiOperator.Hash);
        policy.Operators[PiiKind.Email] = PiiOperator.Mask;
        var hashed = Masker.Mask(text, policy).Text;
        Assert.Matches("^tel [0-9a-f]{64} mail a\\*\\*\\*@b\\.cn$", hashed);
    }

    [Fact]
    public void Hash_SameKeyJoinsAcrossRunsAndFormats_OtherKeyDiffers()
    {
        var policy = PiiMaskingPolicy.For(PiiOperator.Hash);
        var a = new PiiMasker("k-0123456789abcdef"u8.ToArray()).Mask("13812341234", policy).Text;
        var b = new PiiMasker("k-0123456789abcdef"u8.ToArray()).Mask("+86 13812341234", policy).Text;
        var c = new PiiMasker("other-key-0123456789"u8.ToArray()).Mask("13812341234", policy).Text;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Hash_WithoutKey_ThrowsNamingSetting()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new PiiMasker(null).Mask("13812341234", PiiMaskingPolicy.For(PiiOperator.Hash)));
        Assert.Contains("PiiHashKey", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Policy_Kinds_LimitsRecognizers()
    {
        var policy = new PiiMaskingPolicy();
        policy.Kinds.Add(PiiKind.Email);
        Assert.Equal("13812341234 a***@b.cn", Masker.Mask("13812341234 ab@b.cn", policy).Text);
    }

    [Fact]
    public void Findings_HoldPositionsNotValues()
    {
        var text = $"13812341234 {ValidId} x@y.org 10.1.2.3 4111111111111111";
        var findings = Masker.Scan(text);
        Assert.Equal([PiiKind.ChinaMobile, PiiKind.ChinaResidentId, PiiKind.Email, PiiKind.IPv4, PiiKind.BankCard], findings.Select(f => f.Kind));
        Assert.All(findings, f => Assert.DoesNotContain(text.Substring(f.Start, f.Length), f.ToString(), StringComparison.Ordinal));
    }
}
