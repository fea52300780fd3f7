using System.Diagnostics;

namespace Distillery.Host.Cli;

/// <summary>Cancels a run when the process that started it (the queue service) is gone, e.g. after kill -9.</summary>
public static class ParentWatch
{
    public static void CancelWhenGone(int parentId, CancellationTokenSource stop)
    {
        var thread = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (!IsAlive(parentId))
                {
                    stop.Cancel();
                    return;
                }
                Thread.Sleep(250);
            }
        }) { IsBackground = true, Name = "parent-watch" };
        thread.Start();
    }

    private static bool IsAlive(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
