package interop;

import com.google.gson.JsonParser;
import io.lakefs.clients.sdk.ApiClient;
import io.lakefs.clients.sdk.ApiException;
import io.lakefs.clients.sdk.ApiResponse;
import io.lakefs.clients.sdk.Pair;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Sends one push or pull through the official lakeFS Java SDK's ApiClient.
 *
 * <p>Usage: RemotesCall BASE_URL push|pull CATALOG, with the request JSON on stdin and the
 * credentials in LAKEFS_ACCESS_KEY_ID/LAKEFS_SECRET_ACCESS_KEY (basic auth) or LAKEFS_TOKEN
 * (bearer JWT). Prints "STATUS <code>" and then the response body the SDK saw.
 */
public final class RemotesCall {
  public static void main(String[] args) throws IOException {
    if (args.length != 3 || !(args[1].equals("push") || args[1].equals("pull"))) {
      System.err.println("usage: RemotesCall BASE_URL push|pull CATALOG < request.json");
      System.exit(2);
    }
    String body = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);

    ApiClient client = new ApiClient();
    client.setBasePath(args[0]);
    client.setConnectTimeout(10_000);
    client.setReadTimeout(60_000);
    String key = System.getenv("LAKEFS_ACCESS_KEY_ID");
    if (key != null && !key.isEmpty()) {
      client.setUsername(key);
      client.setPassword(System.getenv("LAKEFS_SECRET_ACCESS_KEY"));
    } else {
      client.setBearerToken(System.getenv("LAKEFS_TOKEN"));
    }

    // What the generated RemotesApi.pushIcebergTable / pullIcebergTable do: POST JSON to
    // /iceberg/remotes/{catalog}/{op} with every security scheme of the operation.
    String path = "/iceberg/remotes/" + client.escapeString(args[2]) + "/" + args[1];
    List<Pair> query = new ArrayList<>();
    Map<String, String> headers = new HashMap<>();
    headers.put("Accept", client.selectHeaderAccept(new String[] {"application/json"}));
    headers.put("Content-Type", client.selectHeaderContentType(new String[] {"application/json"}));
    String[] auth = {"basic_auth", "cookie_auth", "oidc_auth", "saml_auth", "jwt_token"};
    try {
      okhttp3.Call call = client.buildCall(null, path, "POST", query, new ArrayList<>(),
          JsonParser.parseString(body), headers, new HashMap<>(), new HashMap<>(), auth, null);
      ApiResponse<Void> rsp = client.execute(call);
      System.out.println("STATUS " + rsp.getStatusCode());
    } catch (ApiException e) {
      System.out.println("STATUS " + e.getCode());
      if (e.getResponseBody() != null) {
        System.out.println(e.getResponseBody());
      } else {
        System.out.println(e.getMessage());
      }
    }
  }
}
