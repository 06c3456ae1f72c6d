<?xml version="1.0" encoding="UTF-8"?>
<!--
  A small ISO Schematron (queryBinding xslt2) to XSLT 3.0 compiler: enough of the standard for the
  XRechnung CII rules in ../shared/validation/xrechnung-cii (pattern, rule, let, assert, report,
  name, value-of, ns, include, embedded xsl:function). Every pattern runs (no phase chosen, as the
  KoSIT validator runs them); within a pattern a node is matched by its first rule only. The result
  writes SVRL: one svrl:fired-rule per matched rule, one svrl:failed-assert / svrl:successful-report
  with the rule's id and text per finding.
-->
<xsl:stylesheet version="3.0"
  xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:sch="http://purl.oclc.org/dsdl/schematron"
  xmlns:out="urn:fluffycall:xslt-alias"
  xmlns:xs="http://www.w3.org/2001/XMLSchema"
  exclude-result-prefixes="sch xs">

  <xsl:namespace-alias stylesheet-prefix="out" result-prefix="xsl"/>
  <xsl:output method="xml" indent="yes"/>

  <xsl:variable name="svrl" select="'http://purl.oclc.org/dsdl/svrl'"/>

  <!-- include: the file named, or (copied out of its repository) the file of that name beside this one -->
  <xsl:template match="sch:include" mode="expand">
    <xsl:variable name="named" select="resolve-uri(@href, base-uri(.))"/>
    <xsl:variable name="beside" select="resolve-uri(tokenize(@href, '/')[last()], base-uri(.))"/>
    <xsl:apply-templates select="if (doc-available($named)) then doc($named)/* else doc($beside)/*" mode="expand"/>
  </xsl:template>
  <xsl:template match="@*|node()" mode="expand">
    <xsl:copy><xsl:apply-templates select="@*|node()" mode="expand"/></xsl:copy>
  </xsl:template>

  <xsl:template match="/">
    <xsl:variable name="schema">
      <xsl:apply-templates select="sch:schema" mode="expand"/>
    </xsl:variable>
    <xsl:apply-templates select="$schema/sch:schema"/>
  </xsl:template>

  <xsl:template match="sch:schema">
    <out:stylesheet version="3.0">
      <xsl:namespace name="xs" select="'http://www.w3.org/2001/XMLSchema'"/>
      <xsl:namespace name="svrl" select="$svrl"/>
      <xsl:copy-of select="namespace::*[name() != '' and name() != 'xml']"/>
      <xsl:for-each select="sch:ns">
        <xsl:namespace name="{@prefix}" select="string(@uri)"/>
      </xsl:for-each>
      <xsl:copy-of select="xsl:function"/>
      <!-- lets outside rules are global variables (evaluated on the document) -->
      <xsl:for-each select="sch:pattern/sch:let">
        <out:variable name="{@name}" select="{@value}"/>
      </xsl:for-each>
      <out:template match="/">
        <xsl:element name="svrl:schematron-output" namespace="{$svrl}">
          <xsl:for-each select="sch:pattern[sch:rule]">
            <xsl:element name="svrl:active-pattern" namespace="{$svrl}">
              <xsl:attribute name="id" select="@id"/>
            </xsl:element>
            <out:apply-templates select="/" mode="p{position()}"/>
          </xsl:for-each>
        </xsl:element>
      </out:template>
      <xsl:for-each select="sch:pattern[sch:rule]">
        <xsl:variable name="mode" select="concat('p', position())"/>
        <xsl:for-each select="sch:rule">
          <out:template match="{@context}" mode="{$mode}" priority="{1000 - position()}">
            <xsl:element name="svrl:fired-rule" namespace="{$svrl}">
              <xsl:attribute name="context" select="@context"/>
            </xsl:element>
            <xsl:for-each select="sch:let">
              <out:variable name="{@name}" select="{@value}"/>
            </xsl:for-each>
            <xsl:apply-templates select="sch:assert|sch:report"/>
            <out:apply-templates select="@*|*" mode="{$mode}"/>
          </out:template>
        </xsl:for-each>
        <out:template match="@*|*" mode="{$mode}" priority="-1">
          <out:apply-templates select="@*|*" mode="{$mode}"/>
        </out:template>
        <out:template match="/" mode="{$mode}" priority="-1">
          <out:apply-templates select="*" mode="{$mode}"/>
        </out:template>
      </xsl:for-each>
    </out:stylesheet>
  </xsl:template>

  <xsl:template match="sch:assert|sch:report">
    <out:if test="{if (self::sch:assert) then concat('not(', @test, ')') else @test}">
      <xsl:element name="{if (self::sch:assert) then 'svrl:failed-assert' else 'svrl:successful-report'}" namespace="{$svrl}">
        <xsl:attribute name="id" select="@id"/>
        <xsl:attribute name="flag" select="@flag"/>
        <out:attribute name="location" select="path()"/>
        <xsl:element name="svrl:text" namespace="{$svrl}">
          <xsl:apply-templates select="node()" mode="message"/>
        </xsl:element>
      </xsl:element>
    </out:if>
  </xsl:template>

  <xsl:template match="text()" mode="message"><xsl:value-of select="."/></xsl:template>
  <xsl:template match="sch:name" mode="message">
    <out:value-of select="name({(@path, '.')[1]})"/>
  </xsl:template>
  <xsl:template match="sch:value-of" mode="message">
    <out:value-of select="{@select}"/>
  </xsl:template>
</xsl:stylesheet>
