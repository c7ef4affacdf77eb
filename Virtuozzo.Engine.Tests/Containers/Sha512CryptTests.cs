using System.Text;
using Virtuozzo.Engine.Containers;
using Xunit;

namespace Virtuozzo.Engine.Tests.Containers;

public sealed class Sha512CryptTests
{
    [Fact]
    public void MatchesTheReferenceVectorOfTheSpecification() =>
        Assert.Equal("$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
            Sha512Crypt.Hash("Hello world!"u8, "saltstring"));

    [Fact]
    public void CutsTheSaltTo16CharactersAsCryptDoes() =>
        Assert.Equal(Sha512Crypt.Hash("x"u8, "0123456789abcdef"), Sha512Crypt.Hash("x"u8, "0123456789abcdefXYZ"));

    [Fact]
    public void HashesQuotesBackslashesLineBreaksAndNonAscii()
    {
        // The hash glibc's crypt() gives for the same UTF-8 bytes and salt (taken with perl's crypt).
        Assert.Equal("$6$abc$k8yzV1OxyAQcCC2M2OVcnAh.GQJ8ZVRbel..mI9ZRY3Xm7c/dSRZUPruOLB1sOAYX2BTRIKrI2ikzPUN3suyv0", Sha512Crypt.Hash(Encoding.UTF8.GetBytes("a\"b\\c\nd ü€"), "abc"));
    }

    [Fact]
    public void MakesSaltsOfTheCryptAlphabet()
    {
        var salt = Sha512Crypt.NewSalt();
        Assert.Matches("^[./0-9A-Za-z]{16}$", salt);
        Assert.NotEqual(salt, Sha512Crypt.NewSalt());
    }
}
