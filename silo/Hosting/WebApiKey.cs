using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using SparOrleans.Core.Security;

namespace SparOrleans.Silo.Hosting;

/// <summary>
/// The web view's API key (<see cref="Variable"/>): every request carries it as <c>Authorization: Bearer KEY</c> or in
/// the <see cref="Cookie"/> cookie, which a browser gets by opening any page once with <c>?key=KEY</c> (then
/// redirected to the same page without it, so the key leaves the address bar and the history). Others get 401.
/// </summary>
public static class WebApiKey
{
    public const string Variable = "SPAR_WEB_API_KEY";

    public const string Cookie = "spar_key";

    public const string QueryName = "key";

    public static IApplicationBuilder UseWebApiKey(this IApplicationBuilder app, string key) => app.Use(async (context, next) =>
    {
        var request = context.Request;
        if (request.Query.TryGetValue(QueryName, out var fromQuery) && ApiKeys.Matches(fromQuery.ToString(), key))
        {
            context.Response.Cookies.Append(Cookie, key, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = request.IsHttps, Path = "/" });
            var rest = QueryString.Create(request.Query.Where(q => q.Key != QueryName));
            context.Response.Redirect(UriHelper.BuildRelative(request.PathBase, request.Path, rest));
            return;
        }
        var header = request.Headers.Authorization.ToString();
        var given = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..].Trim() : request.Cookies[Cookie];
        if (ApiKeys.Matches(given, key))
        {
            await next(context);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        await context.Response.WriteAsJsonAsync(new
        {
            error = new
            {
                message = $"This web view needs its API key ({Variable} of the process that serves it): open a page once with ?{QueryName}=KEY, or send 'Authorization: Bearer KEY'.",
                type = "authentication_error",
            },
        }, JsonSerializerOptions.Web);
    });
}
