namespace Distillery.Kip;

/// <summary>The learning-rate factor of each KIP step under a <see cref="KipSchedule"/>.</summary>
public static class KipSchedules
{
    /// <summary>
    /// The factor the initial learning rates are multiplied by at update <paramref name="step"/> (1-based) of
    /// <paramref name="steps"/>: 1 for <see cref="KipSchedule.Constant"/>; ½·(1 + cos(π·(step − 1)/steps)) for
    /// <see cref="KipSchedule.Cosine"/>, so the first update uses the full rate and the last one sin²(π/(2·steps)) of it,
    /// the rate reaching 0 just after the last step (PyTorch's CosineAnnealingLR with T_max = steps, sampled
    /// before each update). Depends on the step alone, so a resumed run applies the same rates.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="step"/> is not in 1…<paramref name="steps"/>.</exception>
    public static double RateFactor(KipSchedule schedule, long step, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(step, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(step, steps);
        return schedule switch
        {
            KipSchedule.Constant => 1,
            KipSchedule.Cosine => 0.5 * (1 + Math.Cos(Math.PI * (step - 1) / steps)),
            _ => throw new ArgumentOutOfRangeException(nameof(schedule), schedule, null),
        };
    }
}
