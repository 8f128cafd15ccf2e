using System.Diagnostics;
using System.Globalization;

namespace SparOrleans.Silo.Hosting;

/// <summary>
/// One embedded silo per state directory: two silos over the same files would both activate, and both drive, the same
/// runs (their ETag checks are per process). Held as an exclusive open of <c>{state}/.lock</c> for the silo's lifetime;
/// the OS drops it when the process ends, however it ends, so a killed run never leaves a stale lock. Readers of the
/// state (<c>spar status</c>, <c>list</c>, <c>export</c>, <c>watch</c>, <c>report</c>) do not take it.
/// </summary>
public sealed class StateDirectoryLock : IDisposable
{
    public const string FileName = ".lock";

    /// <summary>The holder's process id, beside the lock: the lock file itself cannot be read while it is held.</summary>
    private const string OwnerFileName = ".lock.pid";

    // How .NET reports a refused exclusive open: ERROR_SHARING_VIOLATION on Windows; elsewhere the errno of the
    // refused flock, EWOULDBLOCK (11 on Linux, 35 on macOS and the BSDs).
    private const int SharingViolation = unchecked((int)0x80070020);

    private readonly FileStream _file;
    private readonly string _ownerPath;

    private StateDirectoryLock(FileStream file, string ownerPath)
    {
        _file = file;
        _ownerPath = ownerPath;
    }

    /// <summary>
    /// Takes the lock, or throws <see cref="StateDirectoryInUseException"/> when another process (or another silo of
    /// this one) holds it. Other failures (an unwritable directory) surface as they are.
    /// </summary>
    public static StateDirectoryLock Acquire(string stateDirectory)
    {
        Directory.CreateDirectory(stateDirectory);
        FileStream file;
        try
        {
            file = new FileStream(Path.Combine(stateDirectory, FileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (IsHeld(e))
        {
            throw new StateDirectoryInUseException(stateDirectory, Holder(stateDirectory), e);
        }
        var ownerPath = Path.Combine(stateDirectory, OwnerFileName);
        try
        {
            var temp = $"{ownerPath}.{Guid.NewGuid():N}.tmp";
            File.WriteAllText(temp, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            File.Move(temp, ownerPath, overwrite: true);
        }
        catch
        {
            file.Dispose();
            throw;
        }
        return new StateDirectoryLock(file, ownerPath);
    }

    private static bool IsHeld(IOException e) =>
        OperatingSystem.IsWindows() ? e.HResult == SharingViolation : e.HResult == (OperatingSystem.IsLinux() ? 11 : 35);

    /// <summary>The live process recorded as holding the lock; null when unknown (the holder has not written it yet).</summary>
    private static int? Holder(string stateDirectory)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(stateDirectory, OwnerFileName)).Trim();
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                return null;
            }
            using var process = Process.GetProcessById(pid);
            return process.HasExited ? null : pid;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        try
        {
            // Only our own record: a process that took the lock after us has written its own.
            if (File.Exists(_ownerPath) && File.ReadAllText(_ownerPath).Trim() == Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
            {
                File.Delete(_ownerPath);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a stale record names a process that is gone, which readers ignore.
        }
        // The lock file stays: deleting it while held would let a third process lock a new file beside our old one.
        _file.Dispose();
    }
}

/// <summary>Another embedded silo holds the state directory's <see cref="StateDirectoryLock"/>.</summary>
public sealed class StateDirectoryInUseException(string stateDirectory, int? processId, Exception inner)
    : IOException($"Another process{(processId is { } p ? $" (PID {p})" : "")} holds {Path.Combine(stateDirectory, StateDirectoryLock.FileName)}.", inner)
{
    public string StateDirectory { get; } = stateDirectory;

    /// <summary>The holder's process id, when it recorded one and is still alive.</summary>
    public int? ProcessId { get; } = processId;
}
