package backends;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;

/**
 * The Tomcat back-end of e2e/backends: an embedded Tomcat with Tomcat's
 * default connector and context settings, and one servlet mapped at "/*"
 * that answers every request with 200 and a JSON report of what the
 * container resolved: the path it dispatched on (servlet path + path info,
 * after Tomcat's decoding, path-parameter removal and normalisation), the
 * raw request URI, every header whose name is x-user once lower-cased with
 * '_' read as '-', and the access_token parameter and session cookie as the
 * Servlet API returns them. The report is also sent base64url-encoded in
 * the X-Resolved response header, so that HEAD requests carry it too.
 *
 * <p>Usage: java -cp classes:lib/* backends.Backend PORT (binds 127.0.0.1).
 */
public final class Backend {
  private Backend() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    Tomcat tomcat = new Tomcat();
    tomcat.setBaseDir(Files.createTempDirectory("tokengate-tomcat").toString());
    Connector connector = new Connector();
    connector.setPort(port);
    connector.setProperty("address", "127.0.0.1");
    tomcat.setConnector(connector);
    Context ctx = tomcat.addContext("", null);
    Tomcat.addServlet(ctx, "report", new Report());
    ctx.addServletMappingDecoded("/*", "report");
    tomcat.start();
    System.out.println("listening on 127.0.0.1:" + port);
    System.out.flush();
    tomcat.getServer().await();
  }

  /** Report answers every method the same way: a catch-all, like a front controller. */
  static final class Report extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      String path = req.getServletPath() + (req.getPathInfo() == null ? "" : req.getPathInfo());
      StringBuilder b = new StringBuilder();
      b.append("{\"backend\":\"tomcat\"");
      b.append(",\"method\":").append(quote(req.getMethod()));
      b.append(",\"path\":").append(quote(path));
      b.append(",\"uri\":").append(quote(req.getRequestURI()));
      b.append(",\"x_user\":[");
      boolean first = true;
      for (String name : Collections.list(req.getHeaderNames())) {
        if (!name.toLowerCase(Locale.ROOT).replace('_', '-').equals("x-user")) {
          continue;
        }
        for (String value : Collections.list(req.getHeaders(name))) {
          b.append(first ? "" : ",");
          b.append("{\"name\":").append(quote(name)).append(",\"value\":").append(quote(value)).append('}');
          first = false;
        }
      }
      b.append("],\"access_token\":").append(list(req.getParameterValues("access_token")));
      List<String> sessions = new ArrayList<>();
      Cookie[] cookies = req.getCookies();
      if (cookies != null) {
        for (Cookie c : cookies) {
          if (c.getName().equals("session")) {
            sessions.add(c.getValue());
          }
        }
      }
      b.append(",\"session\":").append(list(sessions.toArray(new String[0])));
      b.append('}');
      byte[] body = b.toString().getBytes(StandardCharsets.UTF_8);
      resp.setStatus(200);
      resp.setContentType("application/json");
      resp.setHeader("X-Resolved", Base64.getUrlEncoder().withoutPadding().encodeToString(body));
      resp.setContentLength(body.length);
      resp.getOutputStream().write(body);
    }
  }

  static String list(String[] values) {
    StringBuilder b = new StringBuilder("[");
    if (values != null) {
      for (int i = 0; i < values.length; i++) {
        b.append(i == 0 ? "" : ",").append(quote(values[i]));
      }
    }
    return b.append(']').toString();
  }

  /** quote renders s as a JSON string, escaping every control character. */
  static String quote(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20 || c == 0x7f) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }
}
