using AiOps.Release.Rollout;

namespace AiOps.Release.Tests.Rollout;

public sealed class DecisionTextTests
{
    [Theory]
    [InlineData(0, 0, 15, 0.8537146, "15 min")]
    [InlineData(1, 2, 0, 0, "1 d 2 h")]
    [InlineData(1, 0, 5, 0, "1 d")]
    [InlineData(0, 24, 0, 0, "1 d")]
    [InlineData(0, 1, 30, 0, "1 h 30 min")]
    [InlineData(0, 0, 0, 42.5, "42 s")]
    [InlineData(0, 0, 0, 0.25, "0.25 s")]
    public void Duration_DecisionReasons_ReadAsPeopleWriteThem(int days, int hours, int minutes, double seconds, string expected)
    {
        var t = new TimeSpan(days, hours, minutes, 0) + TimeSpan.FromSeconds(seconds);
        Assert.Equal(expected, RolloutManager.Duration(t));
    }
}
